/**
 * Jest runs each test file in its own vm context, whose typed-array constructors differ from the main realm's.
 * Native addons (onnxruntime-node) check `instanceof Float32Array` against the main realm and reject tensors
 * built in the test realm ("tensor's data must be type of Float32Array"). This environment hands the test realm
 * the main realm's constructors, so arrays created in tests and in the addon are the same kind.
 */
const { TestEnvironment } = require('jest-environment-node');

const SHARED_CONSTRUCTORS = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class NodeRealmEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED_CONSTRUCTORS) {
      this.global[name] = globalThis[name];
    }
  }
}

module.exports = NodeRealmEnvironment;
