/**
 * AWS clients built from the default credential, region and endpoint chain only: no endpoint is ever set
 * here, so AWS_PROFILE, AWS_REGION and AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL_LAMBDA /
 * AWS_ENDPOINT_URL_CLOUDWATCH (emulators) all work as they do for the AWS CLI.
 */
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';

export interface Clients {
  readonly sqs: SQSClient;
  readonly ssm: SSMClient;
  readonly lambda: LambdaClient;
  readonly cloudwatch: CloudWatchClient;
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
  private apiGatewayClient?: APIGatewayClient;
  private snsClient?: SNSClient;

  /**
   * When the operator configured an SQS endpoint (AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL), it wins over the
   * host inside queue URLs: emulators such as fauxqs hand out queue URLs whose host (sqs.<region>.localhost)
   * need not resolve. Against AWS nothing changes.
   */
  get sqs(): SQSClient {
    const configured = Boolean(process.env.AWS_ENDPOINT_URL_SQS || process.env.AWS_ENDPOINT_URL);
    return (this.sqsClient ??= new SQSClient(configured ? { useQueueUrlAsEndpoint: false } : {}));
  }

  get ssm(): SSMClient {
    return (this.ssmClient ??= new SSMClient({}));
  }

  /**
   * One attempt only: the SDK would otherwise retry a throttled or timed-out Invoke, which could start a
   * second drain. A drain runs up to its function timeout, so the socket may stay quiet for minutes.
   */
  get lambda(): LambdaClient {
    return (this.lambdaClient ??= new LambdaClient({ maxAttempts: 1 }));
  }

  /**
   * Only `status` reads CloudWatch, for a figure it can do without: short timeouts and one retry, so an
   * unreachable or slow endpoint costs seconds, not minutes, before status shows "n/a".
   */
  get cloudwatch(): CloudWatchClient {
    return (this.cloudwatchClient ??= new CloudWatchClient({
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000 },
    }));
  }

  get apiGateway(): APIGatewayClient {
    return (this.apiGatewayClient ??= new APIGatewayClient({ maxAttempts: 2 }));
  }

  get sns(): SNSClient {
    return (this.snsClient ??= new SNSClient({ maxAttempts: 2 }));
  }

  destroy(): void {
    this.apiGatewayClient?.destroy();
    this.snsClient?.destroy();
    this.sqsClient?.destroy();
    this.ssmClient?.destroy();
    this.lambdaClient?.destroy();
    this.cloudwatchClient?.destroy();
  }
}
