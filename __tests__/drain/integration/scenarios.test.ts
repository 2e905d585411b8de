import { drainScenarios } from './scenarios.suite';

// The drain's scenarios on fauxqs (one message per FIFO group per receive).
drainScenarios('fauxqs');
