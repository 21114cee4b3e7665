import type { Module } from '@convkit/layers';
import { LAYER_EXPORTERS } from './internal/layer-exporters';
import { ZOO_EXPORTERS } from './internal/zoo-exporters';
import type { ModuleExporter } from './onnx-graph';

/** A module class, whatever its constructor takes. */
export type ModuleClass<M extends Module = Module> = abstract new (...args: any[]) => M;

const byClass = new Map<ModuleClass, ModuleExporter>(LAYER_EXPORTERS);
const byName = new Map<string, ModuleExporter>(ZOO_EXPORTERS);

/**
 * Register how modules of one type become ONNX nodes: by class (exact class, not subclasses,
 * whose `forward` may differ) or by type name (`constructor.name`, as the zoo's blocks are). A
 * registration replaces an earlier one for the same key; a class beats a name.
 */
export function registerOnnxExporter<M extends Module>(
  type: ModuleClass<M> | string,
  exporter: ModuleExporter<M>,
): void {
  if (typeof exporter !== 'function') {
    throw new Error(
      `registerOnnxExporter: expected an exporter function for ${typeof type === 'string' ? type : type.name}, received ${typeof exporter}`,
    );
  }
  if (typeof type === 'string') byName.set(type, exporter as ModuleExporter);
  else if (typeof type === 'function') byClass.set(type, exporter as ModuleExporter);
  else {
    throw new Error(
      `registerOnnxExporter: expected a module class or a type name, received ${JSON.stringify(type)}`,
    );
  }
}

/** The exporter of `module`: its exact class first, then its type name. */
export function findOnnxExporter(module: Module): ModuleExporter | undefined {
  const type = module.constructor as ModuleClass;
  return byClass.get(type) ?? byName.get(type.name);
}
