import { forgedDeliveries } from './forged-deliveries.suite';

// On LocalStack: several messages of one repository per receive, as SQS does.
forgedDeliveries('localstack');
