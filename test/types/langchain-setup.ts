// The README's LangChain setup line type-checks against LangChain's declarations, which here
// see faiss-node's own types (faiss-node-0.5.1.d.ts) where an application would see none.
import { FaissStore } from '@langchain/community/vectorstores/faiss';

FaissStore.importFaiss = () => import('faiss-native/faiss-node');
