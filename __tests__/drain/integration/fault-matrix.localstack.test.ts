import { faultMatrix } from './fault-matrix.suite';

// The fault matrix on LocalStack (several messages of a FIFO group per receive, as SQS); writes docs/fault-matrix-localstack.md.
faultMatrix('localstack');
