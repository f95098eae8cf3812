// A tokenizer thread for `tabtron preprocess --workers N`: batches of texts in, their token ids
// out (one Int32Array of all ids plus each text's length, transferred).
import { parentPort, workerData } from 'node:worker_threads';
import { getTokenizer } from '../data/tokenizer';
import { encodeTexts } from './tokenize-pool';

export interface TokenizeRequest {
  id: number;
  texts: string[];
}
export interface TokenizeReply {
  id: number;
  ids: Int32Array;
  lengths: Int32Array;
}

const tokenizer = getTokenizer((workerData as { tokenizer: string }).tokenizer);

parentPort?.on('message', (req: TokenizeRequest) => {
  const r = encodeTexts(tokenizer, req.texts);
  const reply: TokenizeReply = { id: req.id, ...r };
  parentPort!.postMessage(reply, [r.ids.buffer as ArrayBuffer, r.lengths.buffer as ArrayBuffer]);
});
