/**
 * The message attributes the drain adds to a dead letter, and what they cost.
 *
 * SQS counts every part of a message attribute (name, data type and value, in UTF-8 bytes)
 * toward the same 1 MiB limit as the body (SQS API reference, MessageAttributeValue: "All parts
 * of the message attribute, including Name, Type, and Value, are part of the message size
 * restriction"). The DLQ copy carries the buffer message's body unchanged plus these
 * attributes, so the buffer must refuse any body that would leave no room for them: otherwise
 * a poison webhook near 1 MiB could never be dead-lettered and would block its repository.
 */

/** SQS's largest message (body + attributes), for any queue. */
export const SQS_MAX_MESSAGE_BYTES = 1048576;

/** Longest SpigotReason, in UTF-8 bytes. */
export const DEAD_LETTER_REASON_MAX_BYTES = 1000;

/** SQS message ids are at most 100 characters (SQS Developer Guide, "Message ID"); they are ASCII. */
const SQS_MESSAGE_ID_MAX_BYTES = 100;

/** HTTP status codes are three digits. */
const HTTP_STATUS_MAX_BYTES = 3;

interface AttributeSpec {
  readonly name: string;
  readonly dataType: 'String' | 'Number';
  readonly maxValueBytes: number;
}

export const DEAD_LETTER_ATTRIBUTES = {
  reason: { name: 'SpigotReason', dataType: 'String', maxValueBytes: DEAD_LETTER_REASON_MAX_BYTES },
  status: { name: 'SpigotStatus', dataType: 'Number', maxValueBytes: HTTP_STATUS_MAX_BYTES },
  originalMessageId: { name: 'SpigotOriginalMessageId', dataType: 'String', maxValueBytes: SQS_MESSAGE_ID_MAX_BYTES },
} as const satisfies Record<string, AttributeSpec>;

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** The most bytes the attributes can add to a dead letter, counted as SQS counts them. */
export const DEAD_LETTER_ATTRIBUTES_MAX_BYTES = Object.values(DEAD_LETTER_ATTRIBUTES).reduce(
  (total, spec: AttributeSpec) => total + utf8Bytes(spec.name) + utf8Bytes(spec.dataType) + spec.maxValueBytes,
  0,
);

/** The buffer's max_message_size: whatever it accepts can still be dead-lettered with worst-case attributes. */
export const BUFFER_MAX_MESSAGE_BYTES = SQS_MAX_MESSAGE_BYTES - DEAD_LETTER_ATTRIBUTES_MAX_BYTES;

/** The longest prefix of `text` that fits in `maxBytes` of UTF-8, never splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (utf8Bytes(text) <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = utf8Bytes(char);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}

/** An HTTP status fits SpigotStatus's three digits; anything else is left out (the reason still explains). */
export const isHttpStatus = (status: number | undefined): status is number =>
  status !== undefined && Number.isInteger(status) && status >= 100 && status <= 999;
