// Every invalid plan fails with a PlanError whose message names the keys and numbers at fault.

export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

export function requirePositiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new PlanError(`${name} must be a positive integer, got ${value}`);
  }
}
