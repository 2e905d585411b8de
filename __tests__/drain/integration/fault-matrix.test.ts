import { faultMatrix } from './fault-matrix.suite';

// The fault matrix on fauxqs; writes docs/fault-matrix.md and the table in docs/security.md.
faultMatrix('fauxqs');
