import { describe, expect, it } from 'vitest';
import { selectBackend } from './select-backend';

// Its own file (its own process): Dawn reads VK_ICD_FILENAMES once, when it first starts.
describe('webgpu in Node without a Vulkan driver', () => {
  it('says what to install and set', async () => {
    process.env.VK_ICD_FILENAMES = '/nonexistent/vk_icd.json';
    const error = await selectBackend({ backend: 'webgpu' }).then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.message).toContain('returned no adapter');
    expect(error?.message).toContain('VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json');
    expect(error?.message).toContain('`webgpu` npm package');
    expect(error?.message).toContain("VK_ICD_FILENAMES is '/nonexistent/vk_icd.json'");
  });
});
