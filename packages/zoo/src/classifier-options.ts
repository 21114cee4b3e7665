/** Options every classifier factory takes (torchvision keywords in camelCase). */
export interface ClassifierOptions {
  /** Outputs of the final layer. Default: the dataset the architecture was made for. */
  numClasses?: number;
  /** Channels of the input image. */
  inChannels?: number;
  /**
   * Initialize as torchvision does (its `init_weights`, e.g. Kaiming normal fan-out for ResNet
   * convolutions). Default true; false keeps the layers' PyTorch defaults, which is faster when
   * weights are loaded right after construction.
   */
  initWeights?: boolean;
}
