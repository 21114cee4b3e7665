import { type ResNet, ResNet as ResNetModel, type ResNetOptions, resnetConfig } from './resnet';

export interface SEResNetOptions extends ResNetOptions {
  /** Squeeze factor of every SE block: `se.fc1` maps C to floor(C / reduction). Default 16. */
  reduction?: number;
}

function reductionOf(where: string, options: SEResNetOptions): number {
  const reduction = options.reduction ?? 16;
  if (!Number.isInteger(reduction) || reduction < 1) {
    throw new Error(`${where}: expected reduction to be a positive integer, received ${reduction}`);
  }
  return reduction;
}

function resnetOptions(options: SEResNetOptions): ResNetOptions {
  const { reduction: _, ...rest } = options;
  return rest;
}

/**
 * SE-ResNet-18 (Hu et al. 2018): torchvision's ResNet-18 with a squeeze-and-excitation module
 * `se` (torchvision.ops.SqueezeExcitation: `se.fc1`, `se.fc2`, 1x1 convs with bias, ReLU,
 * sigmoid) after the last BatchNorm of every block, before the residual add. Keys:
 * `layer1.0.conv1`, ..., `layer1.0.bn2`, `layer1.0.se.fc1.weight`, `layer1.0.se.fc2.bias`,
 * `layer2.0.downsample.0`, `fc`. 11,778,592 parameters with 1000 classes. No torchvision
 * equivalent: the fixture script builds the same network from torchvision's ResNet.
 */
export function seResnet18(options: SEResNetOptions = {}): ResNet {
  const reduction = reductionOf('seResnet18', options);
  return new ResNetModel(
    resnetConfig('seResnet18', 'basic', [2, 2, 2, 2], resnetOptions(options), reduction),
  );
}

/** SE-ResNet-50: as `seResnet18` with Bottleneck x [3, 4, 6, 3]; 28,088,024 parameters. */
export function seResnet50(options: SEResNetOptions = {}): ResNet {
  const reduction = reductionOf('seResnet50', options);
  return new ResNetModel(
    resnetConfig('seResnet50', 'bottleneck', [3, 4, 6, 3], resnetOptions(options), reduction),
  );
}
