/**
 * Check 1: no message content, ciphertext or envelope metadata in Facebook's
 * database.
 *  - Schema: no Facebook column is named for message data (content, ciphertext,
 *    plaintext, body, envelope, message id, sender, recipient).
 *  - Data: every row of every Facebook table, rendered as JSON text, is searched
 *    for a messenger message id (with or without dashes), for a sampled
 *    ciphertext (hex, base64, base64url, bytea), and for two account ids that
 *    messaged each other appearing in the same row.
 */
import type postgres from "postgres";
import { uuidsIn, type CiphertextIndex } from "../fingerprints";
import type { MessageData } from "../sources/messenger";
import { listColumns, listTables, streamRowText } from "../sources/facebook";
import type { CheckRecorder } from "../report";

/** Column names that would hold message data. */
export const MESSAGE_COLUMN = /content|cipher|plaintext|body|envelope|message|sender|recipient/i;

export interface MessageDataInputs {
  messages: MessageData;
  ciphertexts: { index: CiphertextIndex; queued: number; eligible: number };
}

export async function noMessageData(
  facebook: postgres.Sql,
  inputs: MessageDataInputs,
  recorder: CheckRecorder,
  progress: (done: number, total: number) => void,
): Promise<void> {
  const columns = await listColumns(facebook);
  for (const { table, column } of columns) {
    recorder.examined += 1;
    if (MESSAGE_COLUMN.test(column)) {
      recorder.breach({ where: `${table}.${column}`, row: "schema", reason: "a column named for message data" });
    }
  }

  const { messageIds, pairs } = inputs.messages;
  const ciphertexts = inputs.ciphertexts.index;
  const tables = await listTables(facebook);
  const total = tables.reduce((sum, t) => sum + t.rows, 0);
  let done = 0;
  for (const { table } of tables) {
    await streamRowText(facebook, table, (rows) => {
      for (const { locator, text } of rows) {
        const uuids = uuidsIn(text);
        const messageId = messageIds.findIn(text, uuids);
        if (messageId) recorder.breach({ where: table, row: locator, reason: `holds messenger message id ${messageId}` });
        const envelope = ciphertexts.findIn(text);
        if (envelope) recorder.breach({ where: table, row: locator, reason: `holds the ciphertext of envelope ${envelope}` });
        const pair = pairs.findAmong(uuids);
        if (pair) recorder.breach({ where: table, row: locator, reason: `holds sender/recipient pair ${pair[0]} / ${pair[1]}` });
      }
      recorder.examined += rows.length;
      done += rows.length;
      progress(done, total);
    });
  }

  recorder.note(
    `${messageIds.size} message ids and ${pairs.size} sender/recipient pairs searched` +
      (inputs.messages.truncated ? " (newest only: the row bound was reached)" : ""),
  );
  const { queued, eligible } = inputs.ciphertexts;
  recorder.note(
    `${ciphertexts.size} of ${eligible} queued ciphertexts sampled` +
      (queued > eligible ? ` (${queued - eligible} shorter than 24 bytes not searchable)` : ""),
  );
}
