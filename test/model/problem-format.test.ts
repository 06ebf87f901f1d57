import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/model/problem.js';

describe('formatProblem', () => {
  it('names the file, line, path and field before the message and code', () => {
    expect(formatProblem({ severity: 'error', code: 'value-invalid', file: 'users.csv', line: 3, field: 'phone', message: 'bad' })).toBe('users.csv, line 3, field phone: bad [value-invalid]');
  });

  it('says an empty file name rather than leaving a blank before the colon (a black-box test saw "mfa-migrate: : ...")', () => {
    expect(formatProblem({ severity: 'error', code: 'file-missing', file: '', message: 'the source folder does not exist' })).toBe('"" (an empty file name): the source folder does not exist [file-missing]');
  });
});
