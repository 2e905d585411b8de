/**
 * A loopback SSM Parameter Store speaking the AWS JSON 1.1 protocol, so the real @aws-sdk/client-ssm works
 * against it (`endpoint: ssm.endpoint`, or `AWS_ENDPOINT_URL_SSM`).
 *
 * Wire shapes (checked against @aws-sdk/client-ssm@3.1169.0 dist-cjs and @aws-sdk/core's AwsJson1_1Protocol):
 * - request: `POST /`, `X-Amz-Target: AmazonSSM.<Action>`, `Content-Type: application/x-amz-json-1.1`, JSON body
 *   with the input members by name; SigV4 is not checked, only its access key id is read for LastModifiedUser.
 * - success: 200, JSON body with the output members by name; timestamps are epoch *seconds* as JSON numbers
 *   (the protocol's default timestamp format; fractions allowed).
 * - error: 4xx/5xx, body `{"__type":"<Code>","message":"..."}`; the SDK takes the code from `__type`
 *   (before `code` and the `x-amzn-ErrorType` header) and maps it to its modelled exception class.
 *   InternalServerError's model member is `Message` (capital M), the others use `message`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { loopback } from './loopback-server';

export type SsmParameterType = 'String' | 'StringList' | 'SecureString';

export interface SsmParameterVersion {
  readonly name: string;
  readonly type: SsmParameterType;
  readonly value: string;
  readonly version: number;
  readonly description: string | undefined;
  readonly lastModifiedDate: Date;
  readonly lastModifiedUser: string;
}

export interface SsmParameterState extends SsmParameterVersion {
  /** Every version, oldest first (the current one last). */
  readonly history: readonly SsmParameterVersion[];
}

export interface SsmCall {
  readonly action: string;
  readonly name: string | undefined;
  readonly at: Date;
  /** `ok` or the error code answered. */
  outcome: string;
  readonly withDecryption?: boolean;
  readonly overwrite?: boolean;
  readonly type?: string;
}

/**
 * `unavailable`: 500 InternalServerError; `throttled`: 400 ThrottlingException; `hang`: never answers
 * (until `setFailure(null)` is too late for that request, or `stop()`). The SDK retries the first two
 * (3 attempts by default), so each shows up in `calls` once per attempt.
 */
export type SsmFailure = 'unavailable' | 'throttled' | 'hang';

export interface LoopbackSsmOptions {
  readonly accountId?: string;
  readonly region?: string;
}

export interface LoopbackSsm {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly region: string;
  /** Every call received in order; SecureString values are never recorded (no value is). */
  readonly calls: SsmCall[];
  /** Fails every call (or only the listed actions) until `setFailure(null)`. */
  setFailure(failure: SsmFailure | null, onlyActions?: readonly string[]): void;
  /** Current state of a parameter, or undefined. */
  parameter(name: string): SsmParameterState | undefined;
  /** Writes a parameter without going through the API (not logged in `calls`); always overwrites. */
  putDirect(
    name: string,
    value: string,
    opts?: { type?: SsmParameterType; description?: string; user?: string; at?: Date },
  ): SsmParameterState;
  /**
   * Runs `hook` when a call of `action` arrives, before it is carried out (null clears): forces an
   * interleaving, e.g. an operator's write landing between the drain's read and its write.
   */
  beforeAction(action: string, hook: ((input: Record<string, unknown>) => void) | null): void;
  /** Removes a parameter without going through the API. */
  deleteDirect(name: string): void;
  stop(): Promise<void>;
}

class SsmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const TYPES: readonly string[] = ['String', 'StringList', 'SecureString'];

export async function startLoopbackSsm(options: LoopbackSsmOptions = {}): Promise<LoopbackSsm> {
  const accountId = options.accountId ?? '123456789012';
  const region = options.region ?? 'us-east-1';
  const store = new Map<string, SsmParameterVersion[]>();
  const calls: SsmCall[] = [];
  let failure: SsmFailure | null = null;
  let failureActions: ReadonlySet<string> | undefined;
  const hooks = new Map<string, (input: Record<string, unknown>) => void>();

  const arnOf = (name: string): string =>
    `arn:aws:ssm:${region}:${accountId}:parameter${name.startsWith('/') ? '' : '/'}${name}`;

  /** What SSM returns for a SecureString read without decryption: an opaque base64 blob, not the value. */
  const ciphertext = (p: SsmParameterVersion): string =>
    Buffer.concat([
      Buffer.from([1, 2, 2, 0, 120]),
      createHash('sha256').update(`${p.name}\0${p.version}\0${p.value}`).digest(),
    ]).toString('base64');

  const write = (
    name: string,
    value: string,
    type: SsmParameterType,
    description: string | undefined,
    user: string,
    at: Date,
  ): SsmParameterVersion => {
    const versions = store.get(name) ?? [];
    const previous = versions[versions.length - 1];
    const next: SsmParameterVersion = {
      name,
      type,
      value,
      version: (previous?.version ?? 0) + 1,
      description: description ?? previous?.description,
      lastModifiedDate: at,
      lastModifiedUser: user,
    };
    versions.push(next);
    store.set(name, versions);
    return next;
  };

  const state = (name: string): SsmParameterState | undefined => {
    const versions = store.get(name);
    if (versions === undefined || versions.length === 0) return undefined;
    return { ...versions[versions.length - 1]!, history: [...versions] };
  };

  const notFound = (name: string): SsmError => new SsmError(400, 'ParameterNotFound', `Parameter ${name} not found.`);

  const requireName = (input: Record<string, unknown>): string => {
    const name = input.Name;
    if (typeof name !== 'string' || name.length === 0) {
      throw new SsmError(400, 'ValidationException', "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null");
    }
    return name;
  };

  const userOf = (req: IncomingMessage): string => {
    const match = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '');
    return `arn:aws:iam::${accountId}:user/${match?.[1] ?? 'anonymous'}`;
  };

  const epochSeconds = (date: Date): number => date.getTime() / 1000;

  const shown = (p: SsmParameterVersion, decrypt: boolean): string =>
    p.type === 'SecureString' && !decrypt ? ciphertext(p) : p.value;

  const actions: Record<string, (input: Record<string, unknown>, req: IncomingMessage, call: Partial<SsmCall>) => object> = {
    GetParameter(input, _req, call) {
      const requested = requireName(input);
      const decrypt = input.WithDecryption === true;
      Object.assign(call, { withDecryption: decrypt });
      // `name:version` selects an older version, as in SSM.
      const selector = /^(.*):(\d+)$/.exec(requested);
      const name = selector ? selector[1]! : requested;
      const versions = store.get(name);
      if (versions === undefined || versions.length === 0) throw notFound(requested);
      const p = selector ? versions.find((v) => v.version === Number(selector[2])) : versions[versions.length - 1];
      if (p === undefined) throw new SsmError(400, 'ParameterVersionNotFound', `Systems Manager could not find version ${selector![2]} of ${name}.`);
      return {
        Parameter: {
          Name: p.name,
          Type: p.type,
          Value: shown(p, decrypt),
          Version: p.version,
          ...(selector ? { Selector: `:${selector[2]}` } : {}),
          LastModifiedDate: epochSeconds(p.lastModifiedDate),
          ARN: arnOf(p.name),
          DataType: 'text',
        },
      };
    },
    PutParameter(input, req, call) {
      const name = requireName(input);
      const overwrite = input.Overwrite === true;
      const type = input.Type;
      Object.assign(call, { overwrite, type: typeof type === 'string' ? type : undefined });
      if (typeof input.Value !== 'string' || input.Value.length === 0) {
        throw new SsmError(400, 'ValidationException', "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1");
      }
      if (type !== undefined && (typeof type !== 'string' || !TYPES.includes(type))) {
        throw new SsmError(400, 'ValidationException', `1 validation error detected: Value '${String(type)}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]`);
      }
      const existing = state(name);
      if (existing !== undefined && !overwrite) {
        throw new SsmError(400, 'ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
      }
      const resolvedType = (type as SsmParameterType | undefined) ?? existing?.type;
      if (resolvedType === undefined) {
        throw new SsmError(400, 'ValidationException', 'A parameter type is required when you create a parameter.');
      }
      const description = typeof input.Description === 'string' ? input.Description : undefined;
      const written = write(name, input.Value, resolvedType, description, userOf(req), new Date());
      return { Version: written.version, Tier: 'Standard' };
    },
    GetParameterHistory(input, _req, call) {
      const name = requireName(input);
      const decrypt = input.WithDecryption === true;
      Object.assign(call, { withDecryption: decrypt });
      const versions = store.get(name);
      if (versions === undefined || versions.length === 0) throw notFound(name);
      const max = typeof input.MaxResults === 'number' ? input.MaxResults : 50;
      const start = typeof input.NextToken === 'string' ? Number(Buffer.from(input.NextToken, 'base64').toString('utf8')) : 0;
      const page = versions.slice(start, start + max);
      const nextStart = start + page.length;
      return {
        Parameters: page.map((p) => ({
          Name: p.name,
          Type: p.type,
          ...(p.type === 'SecureString' ? { KeyId: 'alias/aws/ssm' } : {}),
          LastModifiedDate: epochSeconds(p.lastModifiedDate),
          LastModifiedUser: p.lastModifiedUser,
          ...(p.description !== undefined ? { Description: p.description } : {}),
          Value: shown(p, decrypt),
          Version: p.version,
          Labels: [],
          Tier: 'Standard',
          Policies: [],
          DataType: 'text',
        })),
        ...(nextStart < versions.length ? { NextToken: Buffer.from(String(nextStart)).toString('base64') } : {}),
      };
    },
    DeleteParameter(input) {
      const name = requireName(input);
      if (!store.delete(name)) throw notFound(name);
      return {};
    },
  };

  const reply = (res: ServerResponse, status: number, body: object): void => {
    if (res.destroyed || res.writableEnded) return;
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/x-amz-json-1.1',
      'Content-Length': Buffer.byteLength(text),
      'x-amzn-RequestId': randomUUID(),
    });
    res.end(text);
  };

  const replyError = (res: ServerResponse, error: SsmError): void => {
    // InternalServerError's modelled member is `Message`; everything else here uses `message`.
    const messageKey = error.code === 'InternalServerError' ? 'Message' : 'message';
    reply(res, error.status, { __type: error.code, [messageKey]: error.message });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = req.headers['x-amz-target'];
      const action = typeof target === 'string' && target.startsWith('AmazonSSM.') ? target.slice('AmazonSSM.'.length) : undefined;
      let input: Record<string, unknown> = {};
      let parseFailed = false;
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        input = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
        if (typeof input !== 'object' || input === null || Array.isArray(input)) parseFailed = true;
      } catch {
        parseFailed = true;
      }
      const call: Partial<SsmCall> & { outcome: string } = {
        action: action ?? String(target),
        name: !parseFailed && typeof input.Name === 'string' ? input.Name : undefined,
        at: new Date(),
        outcome: 'pending',
      };
      calls.push(call as SsmCall);

      if (req.method !== 'POST' || action === undefined) {
        call.outcome = 'UnknownOperationException';
        replyError(res, new SsmError(400, 'UnknownOperationException', `unknown operation ${String(target)}`));
        return;
      }
      if (failure !== null && (failureActions === undefined || failureActions.has(action))) {
        if (failure === 'hang') {
          call.outcome = 'hang';
          return;
        }
        const error =
          failure === 'unavailable'
            ? new SsmError(500, 'InternalServerError', 'An internal error occurred.')
            : new SsmError(400, 'ThrottlingException', 'Rate exceeded');
        call.outcome = error.code;
        replyError(res, error);
        return;
      }
      if (parseFailed) {
        call.outcome = 'SerializationException';
        replyError(res, new SsmError(400, 'SerializationException', 'request body is not a JSON object'));
        return;
      }
      const handler = Object.prototype.hasOwnProperty.call(actions, action) ? actions[action] : undefined;
      if (handler === undefined) {
        call.outcome = 'UnknownOperationException';
        replyError(res, new SsmError(400, 'UnknownOperationException', `loopback SSM does not implement ${action}`));
        return;
      }
      try {
        hooks.get(action)?.(input);
        const output = handler(input, req, call);
        call.outcome = 'ok';
        reply(res, 200, output);
      } catch (error) {
        const ssmError = error instanceof SsmError ? error : new SsmError(500, 'InternalServerError', String(error));
        call.outcome = ssmError.code;
        replyError(res, ssmError);
      }
    });
  });
  const listener = loopback(server);
  const port = await listener.listen();

  let stopped = false;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    region,
    calls,
    setFailure(next, onlyActions) {
      failure = next;
      failureActions = onlyActions === undefined ? undefined : new Set(onlyActions);
    },
    parameter: state,
    putDirect(name, value, opts = {}) {
      const type = opts.type ?? state(name)?.type ?? 'String';
      write(name, value, type, opts.description, opts.user ?? `arn:aws:iam::${accountId}:user/test-setup`, opts.at ?? new Date());
      return state(name)!;
    },
    beforeAction(action, hook) {
      if (hook) hooks.set(action, hook);
      else hooks.delete(action);
    },
    deleteDirect(name) {
      store.delete(name);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await listener.close();
    },
  };
}
