import type { FastifyRequest } from 'fastify';
import { InputError } from '../inference';

/** Text fields a request may carry next to its images (none is read today: room for options). */
export const MAX_TEXT_FIELDS = 4;
/** Bytes of one text field the parser keeps (the parser's `fieldSize`); longer ones are refused. */
export const MAX_TEXT_FIELD_BYTES = 1024;

/**
 * The file parts of a multipart request, each read whole, in order. The parser's own errors
 * (no boundary, a part cut short) carry no status: they are the client's malformed body, so
 * they become 400s that say so instead of 500s. Errors with a status (a file over the size
 * limit: 413) pass through. More than MAX_TEXT_FIELDS text fields, or one longer than
 * MAX_TEXT_FIELD_BYTES (the parser keeps no more of it): 413 naming the limit.
 */
export async function* multipartFiles(
  request: FastifyRequest,
): AsyncGenerator<{ name: string; bytes: Buffer }> {
  const parts = request.parts()[Symbol.asyncIterator]();
  let fields = 0;
  for (;;) {
    const next = await parts.next().catch(malformed);
    if (next.done) return;
    const part = next.value;
    if (part.type !== 'file') {
      if (++fields > MAX_TEXT_FIELDS) {
        throw new InputError(`more than ${MAX_TEXT_FIELDS} text fields in one request`, 413);
      }
      if (part.valueTruncated) {
        throw new InputError(
          `text field '${part.fieldname}' is longer than ${MAX_TEXT_FIELD_BYTES} bytes`,
          413,
        );
      }
      continue;
    }
    const bytes = await part.toBuffer().catch(malformed);
    yield { name: part.filename || part.fieldname, bytes };
  }
}

function malformed(error: Error & { statusCode?: number }): never {
  if (error instanceof InputError || error.statusCode !== undefined) throw error;
  throw new InputError(`malformed multipart body: ${error.message}`);
}
