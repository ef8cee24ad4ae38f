// An Embeddings for the LangChain specs that "embeds" by lookup: passage i is SIFT base vector i
// and question j is SIFT query j, so every expected value comes from brute force over the data.
import { Embeddings } from '@langchain/core/embeddings';
import { sift } from './data';

const { d, base, queries } = sift();

export const passage = (i: number) => `passage ${i}`;
export const question = (j: number) => `question ${j}`;
export const rowOf = (text: string) => Number(text.split(' ')[1]);
/** Vector i of data as a number[]. */
export const row = (data: Float32Array, i: number) => Array.from(data.subarray(i * d, (i + 1) * d));

export class SiftEmbeddings extends Embeddings {
  constructor() {
    super({});
  }
  static vector(text: string): number[] {
    return row(text.startsWith('passage') ? base : queries, rowOf(text));
  }
  async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map(SiftEmbeddings.vector);
  }
  async embedQuery(text: string): Promise<number[]> {
    return SiftEmbeddings.vector(text);
  }
}
