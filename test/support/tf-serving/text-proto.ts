/**
 * Protocol buffer text format, as much of it as TF Serving's config files use, checked against a message
 * description the way TextFormat::Parse checks it: `field: value` and `field { ... }` (also `field: { ... }` and
 * `< >`), `[a, b]` lists for repeated scalars, strings in '' or "", decimal integers, true/false, `#` comments,
 * optional `,` or `;` between fields. Unknown fields, a value of the wrong kind, a singular field set twice and two
 * members of one oneof are errors.
 */

export type ScalarKind = 'string' | 'int64' | 'uint32' | 'bool';

export interface FieldSpec {
  readonly kind: ScalarKind | MessageType;
  readonly repeated?: boolean;
  /** Name of the oneof the field belongs to. */
  readonly oneof?: string;
}

export interface MessageType {
  readonly name: string;
  readonly fields: Readonly<Record<string, FieldSpec>>;
}

export type TextValue = string | number | boolean | TextMessage;
export interface TextMessage {
  [field: string]: TextValue | TextValue[];
}

type Token = { readonly type: 'punct' | 'string' | 'number' | 'ident'; readonly text: string; readonly line: number };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const pattern =
    /\s+|#[^\n]*|(?<punct>[{}<>:[\],;])|(?<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|(?<number>-?\d+(?![\w.]))|(?<ident>[A-Za-z_][\w.]*)/y;
  let pos = 0;
  while (pos < source.length) {
    pattern.lastIndex = pos;
    const match = pattern.exec(source);
    const line = source.slice(0, pos).split('\n').length;
    if (match === null) {
      throw new Error(`line ${line}: unexpected ${JSON.stringify(source.slice(pos, pos + 10))}`);
    }
    pos = pattern.lastIndex;
    const groups = match.groups ?? {};
    for (const type of ['punct', 'string', 'number', 'ident'] as const) {
      if (groups[type] !== undefined) {
        tokens.push({ type, text: groups[type], line });
      }
    }
  }
  return tokens;
}

const unquote = (text: string): string =>
  text.slice(1, -1).replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c] ?? c);

/** Parses `source` as a text-format `type` message. */
export function parseTextProto(source: string, type: MessageType): TextMessage {
  const tokens = tokenize(source);
  let i = 0;
  const where = () => `line ${tokens[Math.min(i, tokens.length - 1)]?.line ?? 1}`;
  const peek = (): Token | undefined => tokens[i];
  const take = (text?: string): Token => {
    const token = tokens[i];
    if (token === undefined || (text !== undefined && token.text !== text)) {
      throw new Error(`${where()}: expected ${text ?? 'a token'}, found ${token?.text ?? 'the end'}`);
    }
    i++;
    return token;
  };

  const scalar = (kind: ScalarKind, field: string): TextValue => {
    const token = take();
    const fail = () => {
      throw new Error(`line ${token.line}: ${field} is a ${kind}, not ${token.text}`);
    };
    switch (kind) {
      case 'string':
        return token.type === 'string' ? unquote(token.text) : fail();
      case 'bool':
        return token.text === 'true' ? true : token.text === 'false' ? false : fail();
      case 'int64':
      case 'uint32': {
        const value = token.type === 'number' ? Number(token.text) : NaN;
        return Number.isSafeInteger(value) && (kind === 'int64' || value >= 0) ? value : fail();
      }
    }
  };

  const message = (messageType: MessageType, close: string | undefined): TextMessage => {
    const result: TextMessage = {};
    const oneofs = new Map<string, string>();
    for (;;) {
      const next = peek();
      if (next === undefined || (close !== undefined && next.text === close)) {
        if (close !== undefined) {
          take(close);
        }
        return result;
      }
      const name = take();
      const spec = messageType.fields[name.text];
      if (name.type !== 'ident' || spec === undefined) {
        throw new Error(`line ${name.line}: ${messageType.name} has no field ${name.text}`);
      }
      if (spec.oneof !== undefined) {
        const other = oneofs.get(spec.oneof);
        if (other !== undefined && other !== name.text) {
          throw new Error(`line ${name.line}: ${name.text} and ${other} are both set (oneof ${spec.oneof})`);
        }
        oneofs.set(spec.oneof, name.text);
      }
      const values: TextValue[] = [];
      if (typeof spec.kind === 'object') {
        if (peek()?.text === ':') {
          take(':');
        }
        const open = take();
        if (open.text !== '{' && open.text !== '<') {
          throw new Error(`line ${open.line}: ${name.text} is a ${spec.kind.name} message, not ${open.text}`);
        }
        values.push(message(spec.kind, open.text === '{' ? '}' : '>'));
      } else {
        take(':');
        if (peek()?.text === '[' && spec.repeated) {
          take('[');
          while (peek()?.text !== ']') {
            values.push(scalar(spec.kind, name.text));
            if (peek()?.text !== ']') {
              take(',');
            }
          }
          take(']');
        } else {
          values.push(scalar(spec.kind, name.text));
        }
      }
      if (spec.repeated) {
        result[name.text] = [...((result[name.text] as TextValue[] | undefined) ?? []), ...values];
      } else if (name.text in result) {
        throw new Error(`line ${name.line}: ${name.text} is set twice (not a repeated field)`);
      } else {
        result[name.text] = values[0]!;
      }
      if (peek()?.text === ',' || peek()?.text === ';') {
        take();
      }
    }
  };

  const parsed = message(type, undefined);
  if (i < tokens.length) {
    throw new Error(`${where()}: unexpected ${tokens[i]!.text}`);
  }
  return parsed;
}

// ---------------------------------------------------------------------------------------------------------------
// TF Serving's ModelServerConfig (tensorflow_serving/config/model_server_config.proto and
// sources/storage_path/file_system_storage_path_source.proto), the fields a model_config_list uses.

const LATEST: MessageType = { name: 'Latest', fields: { num_versions: { kind: 'uint32' } } };
const ALL: MessageType = { name: 'All', fields: {} };
const SPECIFIC: MessageType = { name: 'Specific', fields: { versions: { kind: 'int64', repeated: true } } };
const SERVABLE_VERSION_POLICY: MessageType = {
  name: 'ServableVersionPolicy',
  fields: {
    latest: { kind: LATEST, oneof: 'policy_choice' },
    all: { kind: ALL, oneof: 'policy_choice' },
    specific: { kind: SPECIFIC, oneof: 'policy_choice' },
  },
};
/** map<string, int64> version_labels: a repeated key/value entry in text format. */
const VERSION_LABELS_ENTRY: MessageType = {
  name: 'VersionLabelsEntry',
  fields: { key: { kind: 'string' }, value: { kind: 'int64' } },
};
const MODEL_CONFIG: MessageType = {
  name: 'ModelConfig',
  fields: {
    name: { kind: 'string' },
    base_path: { kind: 'string' },
    model_platform: { kind: 'string' },
    model_version_policy: { kind: SERVABLE_VERSION_POLICY },
    version_labels: { kind: VERSION_LABELS_ENTRY, repeated: true },
  },
};
const MODEL_CONFIG_LIST: MessageType = {
  name: 'ModelConfigList',
  fields: { config: { kind: MODEL_CONFIG, repeated: true } },
};
export const MODEL_SERVER_CONFIG: MessageType = {
  name: 'ModelServerConfig',
  fields: { model_config_list: { kind: MODEL_CONFIG_LIST, oneof: 'config' } },
};

/** One model of a ModelServerConfig, in plain terms. */
export interface ServedModel {
  readonly name: string;
  readonly basePath: string;
  readonly platform: string;
  /** The versions of a `specific` policy; undefined for `latest` or `all`. */
  readonly versions: number[] | undefined;
  /** How many of the newest versions a `latest` policy serves (1 when no policy is given); undefined otherwise. */
  readonly latestVersions?: number;
  readonly labels: Record<string, number>;
}

/** Parses a text-format ModelServerConfig into its models; a label given twice is an error. */
export function parseModelServerConfig(source: string): ServedModel[] {
  const config = parseTextProto(source, MODEL_SERVER_CONFIG);
  const list = (config.model_config_list ?? {}) as TextMessage;
  return ((list.config ?? []) as TextMessage[]).map((model) => {
    const policy = (model.model_version_policy ?? {}) as TextMessage;
    const labels: Record<string, number> = {};
    for (const entry of (model.version_labels ?? []) as TextMessage[]) {
      const key = (entry.key as string | undefined) ?? '';
      if (key in labels) {
        throw new Error(`version label ${key} is given twice`);
      }
      labels[key] = (entry.value as number | undefined) ?? 0;
    }
    return {
      name: (model.name as string | undefined) ?? '',
      basePath: (model.base_path as string | undefined) ?? '',
      platform: (model.model_platform as string | undefined) ?? '',
      versions:
        policy.specific === undefined ? undefined : (((policy.specific as TextMessage).versions ?? []) as number[]),
      ...(policy.specific === undefined && policy.all === undefined
        ? { latestVersions: ((policy.latest as TextMessage | undefined)?.num_versions as number | undefined) ?? 1 }
        : {}),
      labels,
    };
  });
}
