export declare function importForBench(
  benchDir: string,
  exportLines: string[],
  options?: { external?: string[] },
): Promise<Record<string, any>>;
