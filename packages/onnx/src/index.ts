// The package's only barrel.
export { type ExportOnnxOptions, exportOnnx, ONNX_METADATA } from './export-onnx';
export { findOnnxExporter, registerOnnxExporter } from './exporter-registry';
export {
  createOnnxSession,
  loadOnnxRuntime,
  OnnxEngine,
  type OnnxRuntime,
  type OnnxRuntimeSession,
  type OnnxSessionOptions,
  onnxRuntimePackage,
} from './onnx-engine';
export {
  type AttributeValue,
  FloatAttribute,
  float,
  type ModuleExporter,
  NCHW_AXIS,
  OnnxGraph,
  type OnnxLayout,
  type OnnxValue,
} from './onnx-graph';
export { type OnnxModelInfo, readOnnxModel } from './read-onnx-model';
