import { forgedDeliveries } from './forged-deliveries.suite';

forgedDeliveries('fauxqs');
