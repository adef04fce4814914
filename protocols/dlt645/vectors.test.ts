import { describeVectors, loadVectors } from '../testing/vector-table.ts';
import { decodeDlt645 } from './decode.ts';
import { encodeDlt645 } from './encode.ts';

describeVectors(loadVectors('dlt645.json'), { decode: decodeDlt645, encode: encodeDlt645 });
