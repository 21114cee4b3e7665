/** How a loss combines its per-element values: their mean, their sum, or none (the tensor). */
export type Reduction = 'mean' | 'sum' | 'none';
