/**
 * The one argument validator: every public function checks its arguments through these, so a bad
 * argument is always an {@link ArgumentError} (`ERR_INVALID_ARGUMENT`) that names the argument,
 * and `undefined` always means the default. Modelled on node's `checkRangesOrGetDefault`.
 */
import { ArgumentError } from './errors';

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value == null) return String(value);
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} of ${value.byteLength} bytes`;
  return typeof value === 'function' ? 'a function' : `an ${Array.isArray(value) ? 'array' : 'object'}`;
}

/** Throws the ArgumentError for `name`, which must be `what`. */
export function invalid(name: string, what: string, value: unknown): never {
  throw new ArgumentError(`"${name}" must be ${what}, got ${describe(value)}`, name);
}

/** An integer in [min, max]; `undefined` gives `fallback` (when one is given). */
export function integerArg(name: string, value: unknown, min: number, max: number, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    invalid(name, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

/** A finite number in [min, max]; `undefined` gives `fallback` (when one is given). */
export function numberArg(name: string, value: unknown, min: number, max: number, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    invalid(name, `a number from ${min} to ${max}`, value);
  }
  return value;
}

/** A boolean; `undefined` gives `fallback`. */
export function booleanArg(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') invalid(name, 'a boolean', value);
  return value;
}

/** One of `choices`; `undefined` gives `fallback` (when one is given). */
export function oneOfArg<T extends string>(name: string, value: unknown, choices: readonly T[], fallback?: T): T {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    invalid(name, `one of ${choices.map((c) => `'${c}'`).join(', ')}`, value);
  }
  return value as T;
}

/** Bytes: a Uint8Array (Buffer included). */
export function bytesArg(name: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) invalid(name, 'a Uint8Array or Buffer', value);
  return value;
}

/** A function; `undefined` is returned as is when `optional`. */
export function functionArg<F extends (...args: never[]) => unknown>(name: string, value: unknown, optional: true): F | undefined;
export function functionArg<F extends (...args: never[]) => unknown>(name: string, value: unknown, optional?: false): F;
export function functionArg<F extends (...args: never[]) => unknown>(name: string, value: unknown, optional = false): F | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'function') invalid(name, 'a function', value);
  return value as F;
}

/** An options object: `undefined` gives `{}`; anything but a plain object is an error. */
export function optionsArg<T extends object>(name: string, value: unknown): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid(name, 'an options object', value);
  return value as Partial<T>;
}
