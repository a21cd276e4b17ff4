import { Injectable } from '@nestjs/common';
import type { InferenceStrategy } from './inference-strategy.interface.js';

export interface RegisteredStrategy {
  /** Key in health reports, e.g. `v1_onnxruntime`. */
  readonly key: string;
  readonly strategy: InferenceStrategy;
  /**
   * Whether this pod's readiness depends on it. True for in-process models (v1): a pod without its model must
   * not take traffic. False for remote backends (v2): TF Serving being down must not pull v1 out of service.
   */
  readonly gatesReadiness: boolean;
}

/** The strategies this process serves, registered by each API version's module; read by the health checks. */
@Injectable()
export class InferenceRegistry {
  private readonly strategies = new Map<string, RegisteredStrategy>();

  register(entry: RegisteredStrategy): void {
    if (this.strategies.has(entry.key)) {
      throw new Error(`inference strategy "${entry.key}" registered twice`);
    }
    this.strategies.set(entry.key, entry);
  }

  list(): RegisteredStrategy[] {
    return [...this.strategies.values()];
  }
}
