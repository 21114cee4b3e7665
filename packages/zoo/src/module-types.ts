import {
  type AnyModule,
  LAYER_TYPES,
  type Module,
  type ModuleJSON,
  type ModuleTypes,
  moduleFromJSON,
} from '@convkit/layers';
import { AlexNet, alexnet, alexnetOriginal } from './alexnet';
import { CifarBasicBlock, CifarResNet, cifarResnet20, cifarResnet56 } from './cifar-resnet';
import { BasicConv2d, GoogLeNet, googlenet, Inception, InceptionAux } from './googlenet';
import { LeNet5, lenet5, lenet5Original } from './lenet';
import { InvertedResidual, MobileNetV2, mobilenetV2 } from './mobilenet-v2';
import {
  BasicBlock,
  Bottleneck,
  ResNet,
  resnet18,
  resnet34,
  resnet50,
  resnet101,
  resnet152,
} from './resnet';
import { seResnet18, seResnet50 } from './se-resnet';
import { Fire, SqueezeNet, squeezenet1_0, squeezenet1_1 } from './squeezenet';
import { DoubleConv, UNet, unet } from './unet';
import { VGG, vgg11, vgg11Bn, vgg13, vgg13Bn, vgg16, vgg16Bn, vgg19, vgg19Bn } from './vgg';
import type { ZooModel } from './zoo-model';

/**
 * Every module class `moduleFromJSON` can rebuild once the zoo is loaded, by `toJSON().type`:
 * the layers of `@convkit/layers` plus the zoo's models and blocks. A checkpoint of any zoo model
 * (or of a `Sequential` holding one) is rebuilt from its manifest with
 * `loadCheckpoint(dir, { moduleTypes: ZOO_MODULE_TYPES })`.
 */
export const ZOO_MODULE_TYPES: ModuleTypes = Object.freeze({
  ...LAYER_TYPES,
  AlexNet,
  BasicBlock,
  BasicConv2d,
  Bottleneck,
  CifarBasicBlock,
  CifarResNet,
  DoubleConv,
  Fire,
  GoogLeNet,
  Inception,
  InceptionAux,
  InvertedResidual,
  LeNet5,
  MobileNetV2,
  ResNet,
  SqueezeNet,
  UNet,
  VGG,
});

/** Rebuild a zoo model, a zoo block or any layer from its `toJSON()` (fresh parameters). */
export function zooModuleFromJSON<M extends AnyModule = Module>(json: ModuleJSON): M {
  return moduleFromJSON<M>(json, ZOO_MODULE_TYPES);
}

/** A zoo factory: options in, a model with `info` out. */
export type ZooFactory = (options?: Record<string, unknown>) => ZooModel;

/** The zoo's factories by name (`resnet18`, `cifarResnet20`, ...), for command lines and configs. */
export const ZOO_MODELS: Readonly<Record<string, ZooFactory>> = Object.freeze({
  lenet5,
  lenet5Original,
  alexnet,
  alexnetOriginal,
  vgg11,
  vgg11Bn,
  vgg13,
  vgg13Bn,
  vgg16,
  vgg16Bn,
  vgg19,
  vgg19Bn,
  googlenet,
  resnet18,
  resnet34,
  resnet50,
  resnet101,
  resnet152,
  seResnet18,
  seResnet50,
  cifarResnet20,
  cifarResnet56,
  mobilenetV2,
  squeezenet1_0,
  squeezenet1_1,
  unet,
} as Record<string, ZooFactory>);

/** `ZOO_MODELS[name](options)`, or an error naming the known models. */
export function createZooModel(name: string, options: Record<string, unknown> = {}): ZooModel {
  const factory = Object.hasOwn(ZOO_MODELS, name) ? ZOO_MODELS[name] : undefined;
  if (!factory) {
    throw new Error(
      `unknown zoo model '${name}'; expected one of ${Object.keys(ZOO_MODELS).join(', ')}`,
    );
  }
  return factory(options);
}
