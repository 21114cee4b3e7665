export declare function importForBench(
  benchDir: string,
  exportLines: string[],
): Promise<Record<string, any>>;
