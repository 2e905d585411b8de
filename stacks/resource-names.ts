/** Names the stack gives resources, shared with the CLI (which must not load cdktf to know them). */
export const drainFunctionName = (stack: string): string => `${stack}-drain`;
export const drainLogGroupName = (stack: string): string => `/aws/lambda/${drainFunctionName(stack)}`;
