/** Builds a parameterised WHERE clause: `add('cloud = ?', value)` numbers the placeholder. */
export class SqlConditions {
  readonly where: string[] = [];
  readonly params: unknown[] = [];

  add(sql: string, value: unknown): this {
    this.params.push(value);
    this.where.push(sql.replace('?', `$${this.params.length}`));
    return this;
  }

  /** Adds a condition when the value is set. */
  addIf(sql: string, value: unknown): this {
    return value === undefined || value === null ? this : this.add(sql, value);
  }

  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  clause(): string {
    return this.where.length ? `WHERE ${this.where.join(' AND ')}` : '';
  }
}
