import { Module } from '@nestjs/common';
import { ModelModule } from '../../model/model.module.js';
import { ONNX_INFERENCE } from '../inference.constants.js';
import { OnnxStrategy } from './onnx.strategy.js';

@Module({
  imports: [ModelModule],
  providers: [OnnxStrategy, { provide: ONNX_INFERENCE, useExisting: OnnxStrategy }],
  exports: [ONNX_INFERENCE, OnnxStrategy],
})
export class OnnxInferenceModule {}
