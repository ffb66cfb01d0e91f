import { Transform, pipeline, type Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { InputError, InvalidOptionError, toError } from '../errors';
import type { PipelineInput } from './types';

/** The forms `openInput` reads: a path, a byte stream, an iterable of items. */
export type ByteSource = string | NodeJS.ReadableStream | AsyncIterable<unknown> | Iterable<unknown>;

/**
 * Brings the convenience forms of `input` to one `openInput` reads: a `file:`
 * URL becomes its path, a whole feed's bytes an iterable of one piece, and an
 * object-mode Readable (`Readable.from([...])`) a byte stream of its items,
 * read like an iterable's.
 */
export function asByteSource(input: PipelineInput): ByteSource {
  if (input instanceof URL) return urlPath(input);
  if (input instanceof Uint8Array) return [input];
  if (isObjectModeReadable(input)) return itemStream(input);
  return input;
}

const NL = Buffer.from('\n');

/** One item of an iterable or object-mode stream: a string is a line, an object an item (one JSON line), bytes pass through. */
export function itemBytes(item: unknown, what: string): Uint8Array {
  if (item instanceof Uint8Array) return item;
  if (typeof item === 'string') return Buffer.concat([Buffer.from(item), NL]);
  if (item !== null && typeof item === 'object') return Buffer.from(`${JSON.stringify(item)}\n`);
  throw new InputError('ERR_INPUT', `Expected the ${what} to yield strings, bytes or objects, got ${item === null ? 'null' : typeof item}`);
}

function urlPath(url: URL): string {
  if (url.protocol !== 'file:') throw new InvalidOptionError(`Expected \`input\` to be a file: URL, got a ${url.protocol} URL (${url.href})`);
  try {
    return fileURLToPath(url);
  } catch (err) {
    throw new InvalidOptionError(`Expected \`input\` to be a local file: URL, got ${url.href}: ${toError(err).message}`);
  }
}

function isObjectModeReadable(v: PipelineInput): v is Readable {
  return typeof v === 'object' && (v as Partial<Readable>).readableObjectMode === true && typeof (v as Partial<Readable>).pipe === 'function';
}

/**
 * The items as bytes, through a stream rather than an async iterator, so a
 * stopped run can destroy it (and, through `pipeline`, the source) even while
 * a read is pending.
 */
function itemStream(source: Readable): Readable {
  const bytes = new Transform({
    writableObjectMode: true,
    transform(item: unknown, _encoding, done) {
      try {
        done(null, itemBytes(item, 'object-mode stream'));
      } catch (err) {
        done(toError(err));
      }
    },
  });
  pipeline(source, bytes, () => undefined); // errors reach the reader through `bytes`
  return bytes;
}
