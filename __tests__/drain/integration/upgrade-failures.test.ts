import { upgradeFailures } from './upgrade-failures.suite';

upgradeFailures('fauxqs');
