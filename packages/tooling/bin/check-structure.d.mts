/** Every problem of the workspace at `root` as `path: what`, with the number of packages checked. */
export declare function checkStructure(root: string): { problems: string[]; checked: number };
