/** A class index per sample, one index for every sample, or the predicted class when omitted. */
export type Target = number | readonly number[];
