import { describe, expect, it } from 'vitest';
import { findNestedQuantifier } from '../../../server/routing/nested-quantifier.js';

describe('findNestedQuantifier', () => {
  it.each([
    ['(a+)+', '(a+)+'],
    ['x(\\w*)*y', '(\\w*)*'],
    ['(?:x+y?){2,}', '(?:x+y?){2,}'],
    ['((a+))+$', '((a+))+'],
    ['(?<g>[a-z]+\\.)*example', '(?<g>[a-z]+\\.)*'],
    ['(a{2,})+?', '(a{2,})+?'],
  ])('flags %s', (source, fragment) => {
    expect(findNestedQuantifier(source)).toBe(fragment);
  });

  it.each([
    '(?<region>[a-z]{2})',
    '(.+\\.)?portal\\.test',
    'books-(?<branch>[a-z]+)',
    '(a+)?',
    '(ab){1,5}',
    '[(+)]+',
    '\\(a+\\)+',
    '\\p{L}+(\\d)+',
    '(?<a>x)\\k<a>+',
    'a{2}b*c+',
  ])('accepts %s', (source) => {
    expect(findNestedQuantifier(source)).toBeUndefined();
  });
});
