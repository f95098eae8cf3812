// Option parsers for commander that name the flag in their error.
import { InvalidArgumentError } from 'commander';

export function intArg(flag: string, min: number) {
  return (v: string): number => {
    const n = Number(v.trim());
    if (!/^-?\d+$/.test(v.trim()) || n < min)
      throw new InvalidArgumentError(`${flag} must be an integer >= ${min}, got "${v}"`);
    return n;
  };
}

export function numberArg(flag: string, min: number) {
  return (v: string): number => {
    const n = Number(v.trim());
    if (v.trim() === '' || !Number.isFinite(n) || n < min)
      throw new InvalidArgumentError(`${flag} must be a number >= ${min}, got "${v}"`);
    return n;
  };
}
