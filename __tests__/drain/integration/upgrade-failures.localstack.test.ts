import { upgradeFailures } from './upgrade-failures.suite';

// On LocalStack: several messages of one repository per receive, as SQS does.
upgradeFailures('localstack');
