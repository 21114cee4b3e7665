// The package's only barrel.
export {
  AlexNet,
  type AlexNetOptions,
  type AlexNetOriginalOptions,
  alexnet,
  alexnetOriginal,
} from './alexnet';
export {
  CifarBasicBlock,
  CifarResNet,
  type CifarResNetOptions,
  type CifarShortcut,
  cifarResnet,
  cifarResnet20,
  cifarResnet56,
} from './cifar-resnet';
export type { ClassifierOptions } from './classifier-options';
export {
  BasicConv2d,
  GoogLeNet,
  type GoogLeNetOptions,
  type GoogLeNetOutputs,
  googlenet,
  Inception,
  InceptionAux,
} from './googlenet';
export { LeNet5, type LeNet5Options, lenet5, lenet5Original } from './lenet';
export {
  InvertedResidual,
  MobileNetV2,
  type MobileNetV2Options,
  makeDivisible,
  mobilenetV2,
} from './mobilenet-v2';
export {
  createZooModel,
  ZOO_MODELS,
  ZOO_MODULE_TYPES,
  type ZooFactory,
  zooModuleFromJSON,
} from './module-types';
export { type LoadPyTorchOptions, layoutsOf, loadPyTorchStateDict } from './pytorch-weights';
export {
  BasicBlock,
  Bottleneck,
  ResNet,
  type ResNetOptions,
  resnet18,
  resnet34,
  resnet50,
  resnet101,
  resnet152,
} from './resnet';
export { type SEResNetOptions, seResnet18, seResnet50 } from './se-resnet';
export {
  Fire,
  SqueezeNet,
  type SqueezeNetOptions,
  squeezenet1_0,
  squeezenet1_1,
} from './squeezenet';
export { DoubleConv, UNet, type UNetOptions, unet } from './unet';
export {
  VGG,
  type VGGOptions,
  type VGGVariant,
  vgg11,
  vgg11Bn,
  vgg13,
  vgg13Bn,
  vgg16,
  vgg16Bn,
  vgg19,
  vgg19Bn,
} from './vgg';
export {
  type AnyZooModel,
  type FeatureInfo,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type ModelInfo,
  ZooModel,
} from './zoo-model';
