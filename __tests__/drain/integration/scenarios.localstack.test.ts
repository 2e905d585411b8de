import { drainScenarios } from './scenarios.suite';

// The drain's scenarios on LocalStack, which returns several messages of a FIFO group per receive, as SQS does.
drainScenarios('localstack');
