/**
 * AWS clients built from the default credential, region and endpoint chain only: no endpoint is ever set
 * here, so AWS_PROFILE, AWS_REGION and AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL_LAMBDA /
 * AWS_ENDPOINT_URL_CLOUDWATCH / AWS_ENDPOINT_URL_CLOUDWATCH_LOGS (emulators) all work as they do for the AWS CLI.
 */
import type { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SSMClient } from '@aws-sdk/client-ssm';

// Each SDK package is loaded on first use: loading them all costs more than the rest of a
// `spigot --help`, and a command needs two or three at most.
/* eslint-disable @typescript-eslint/no-require-imports */
const sdk = {
  sqs: () => require('@aws-sdk/client-sqs') as typeof import('@aws-sdk/client-sqs'),
  ssm: () => require('@aws-sdk/client-ssm') as typeof import('@aws-sdk/client-ssm'),
  lambda: () => require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda'),
  cloudwatch: () => require('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch'),
  logs: () => require('@aws-sdk/client-cloudwatch-logs') as typeof import('@aws-sdk/client-cloudwatch-logs'),
  apiGateway: () => require('@aws-sdk/client-api-gateway') as typeof import('@aws-sdk/client-api-gateway'),
  sns: () => require('@aws-sdk/client-sns') as typeof import('@aws-sdk/client-sns'),
};

export interface Clients {
  readonly sqs: SQSClient;
  readonly ssm: SSMClient;
  readonly lambda: LambdaClient;
  readonly cloudwatch: CloudWatchClient;
  readonly logs: CloudWatchLogsClient;
  /** `doctor` only: the account's API Gateway settings, the alarm topic. */
  readonly apiGateway: APIGatewayClient;
  readonly sns: SNSClient;
}

/** Lazily created, so a command only needs credentials for the services it calls. */
export class LazyClients implements Clients {
  private sqsClient?: SQSClient;
  private ssmClient?: SSMClient;
  private lambdaClient?: LambdaClient;
  private cloudwatchClient?: CloudWatchClient;
  private logsClient?: CloudWatchLogsClient;
  private apiGatewayClient?: APIGatewayClient;
  private snsClient?: SNSClient;

  /**
   * `region()` (the stack's, from spigot.config.json or --region) wins over the default chain's. It is asked
   * when a client is first built, which is after the command found its stack.
   */
  constructor(private readonly region: () => string | undefined = () => undefined) {}

  private get base(): { region?: string } {
    const region = this.region();
    return region === undefined ? {} : { region };
  }

  /**
   * When the operator configured an SQS endpoint (AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL), it wins over the
   * host inside queue URLs: emulators such as fauxqs hand out queue URLs whose host (sqs.<region>.localhost)
   * need not resolve. Against AWS nothing changes.
   */
  get sqs(): SQSClient {
    const configured = Boolean(process.env.AWS_ENDPOINT_URL_SQS || process.env.AWS_ENDPOINT_URL);
    return (this.sqsClient ??= new (sdk.sqs().SQSClient)({ ...this.base, ...(configured ? { useQueueUrlAsEndpoint: false } : {}) }));
  }

  get ssm(): SSMClient {
    return (this.ssmClient ??= new (sdk.ssm().SSMClient)(this.base));
  }

  /**
   * One attempt only: the SDK would otherwise retry a throttled or timed-out Invoke, which could start a
   * second drain. A drain runs up to its function timeout, so the socket may stay quiet for minutes.
   */
  get lambda(): LambdaClient {
    return (this.lambdaClient ??= new (sdk.lambda().LambdaClient)({ ...this.base, maxAttempts: 1 }));
  }

  /**
   * Only `status` reads CloudWatch, for a figure it can do without: short timeouts and one retry, so an
   * unreachable or slow endpoint costs seconds, not minutes, before status shows "n/a".
   */
  get cloudwatch(): CloudWatchClient {
    return (this.cloudwatchClient ??= new (sdk.cloudwatch().CloudWatchClient)({
      ...this.base,
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000 },
    }));
  }

  /** `trace` pages through log events: bounded calls, so a stalled endpoint fails in seconds. */
  get logs(): CloudWatchLogsClient {
    return (this.logsClient ??= new (sdk.logs().CloudWatchLogsClient)({
      ...this.base,
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 3_000, requestTimeout: 15_000 },
    }));
  }

  get apiGateway(): APIGatewayClient {
    return (this.apiGatewayClient ??= new (sdk.apiGateway().APIGatewayClient)({ ...this.base, maxAttempts: 2 }));
  }

  get sns(): SNSClient {
    return (this.snsClient ??= new (sdk.sns().SNSClient)({ ...this.base, maxAttempts: 2 }));
  }

  destroy(): void {
    this.apiGatewayClient?.destroy();
    this.snsClient?.destroy();
    this.logsClient?.destroy();
    this.sqsClient?.destroy();
    this.ssmClient?.destroy();
    this.lambdaClient?.destroy();
    this.cloudwatchClient?.destroy();
  }
}
