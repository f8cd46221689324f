import { toCsv } from './csv';

describe('toCsv', () => {
  it('quotes what needs quoting and defuses spreadsheet formulas', () => {
    expect(toCsv(['a', 'b'], [['x,y', 'say "hi"'], [null, 3], ['=SUM(A1)', true]])).toBe('a,b\r\n"x,y","say ""hi"""\r\n,3\r\n\'=SUM(A1),true\r\n');
  });
});
