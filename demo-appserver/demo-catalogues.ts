/**
 * One article of a demo shop; prices in minor units (cents).
 *
 * @example
 * ```ts
 * const a: Article = { sku: 'B-IPA-01', name: 'Hop Harbour IPA', detail: '33 cl', price: 450 };
 * ```
 */
export interface Article {
  readonly sku: string;
  readonly name: string;
  readonly detail: string;
  readonly price: number;
}

/**
 * One book of a demo bookstore.
 *
 * @example
 * ```ts
 * const b: Book = { isbn: '978-0441013593', title: 'Dune', author: 'Frank Herbert', year: 1965, price: 1899, stock: 12 };
 * ```
 */
export interface Book {
  readonly isbn: string;
  readonly title: string;
  readonly author: string;
  readonly year: number;
  readonly price: number;
  /** Copies in stock at start-up. */
  readonly stock: number;
}

/**
 * Drink categories a shop session can switch between (design brief flow 7: wine → beer).
 *
 * @example
 * ```ts
 * const c: DrinkCategory = change.details.category === 'beer' ? 'beer' : 'wine';
 * ```
 */
export type DrinkCategory = 'wine' | 'beer';

/**
 * The wine shop's shelves: mostly wine, a few beers for the change request.
 *
 * @example
 * ```ts
 * WINE_SHOP_SHELVES.wine[0].price; // 2450 (24.50 EUR)
 * ```
 */
export const WINE_SHOP_SHELVES: Readonly<Record<DrinkCategory, readonly Article[]>> = {
  wine: [
    { sku: 'W-BDX-15', name: 'Château Margaux-Lès-Bois 2015', detail: 'Bordeaux, red, 75 cl', price: 2450 },
    { sku: 'W-RIO-19', name: 'Rioja Reserva 2019', detail: 'Spain, red, 75 cl', price: 1490 },
    { sku: 'W-CHA-21', name: 'Chablis Premier Cru 2021', detail: 'Burgundy, white, 75 cl', price: 2890 },
    { sku: 'W-RSL-22', name: 'Mosel Riesling Kabinett 2022', detail: 'Germany, white, 75 cl', price: 1250 },
    { sku: 'W-PRS-NV', name: 'Prosecco Superiore', detail: 'Italy, sparkling, 75 cl', price: 1190 },
  ],
  beer: [
    { sku: 'W-CID-01', name: 'Normandy Cider', detail: 'France, 33 cl', price: 390 },
    { sku: 'W-LAM-01', name: 'Oude Kriek Lambic', detail: 'Belgium, 37.5 cl', price: 890 },
  ],
};

/**
 * The beer shop's shelves: mostly beer, a few wines.
 *
 * @example
 * ```ts
 * BEER_SHOP_SHELVES.beer.length; // 5
 * ```
 */
export const BEER_SHOP_SHELVES: Readonly<Record<DrinkCategory, readonly Article[]>> = {
  beer: [
    { sku: 'B-IPA-01', name: 'Hop Harbour IPA', detail: 'Pale ale, 6.2 %, 33 cl', price: 450 },
    { sku: 'B-STO-01', name: 'Night Shift Stout', detail: 'Stout, 5.8 %, 33 cl', price: 490 },
    { sku: 'B-PIL-01', name: 'Bohemian Pilsner', detail: 'Lager, 4.9 %, 50 cl', price: 350 },
    { sku: 'B-WIT-01', name: 'Orchard Witbier', detail: 'Wheat, 5.0 %, 33 cl', price: 420 },
    { sku: 'B-TRP-01', name: 'Abbey Tripel', detail: 'Belgian, 8.5 %, 33 cl', price: 590 },
  ],
  wine: [
    { sku: 'B-GRU-21', name: 'Grüner Veltliner 2021', detail: 'Austria, white, 75 cl', price: 1390 },
    { sku: 'B-BEA-22', name: 'Beaujolais Villages 2022', detail: 'France, red, 75 cl', price: 1150 },
  ],
};

/**
 * Bookstore A: larger, dearer, well stocked.
 *
 * @example
 * ```ts
 * searchBooks(BOOKSTORE_A_BOOKS, 'dune').length; // 2
 * ```
 */
export const BOOKSTORE_A_BOOKS: readonly Book[] = [
  { isbn: '978-0441013593', title: 'Dune', author: 'Frank Herbert', year: 1965, price: 1899, stock: 12 },
  { isbn: '978-0593098233', title: 'Dune Messiah', author: 'Frank Herbert', year: 1969, price: 1799, stock: 4 },
  { isbn: '978-0547928227', title: 'The Hobbit', author: 'J. R. R. Tolkien', year: 1937, price: 1450, stock: 8 },
  { isbn: '978-0451524935', title: 'Nineteen Eighty-Four', author: 'George Orwell', year: 1949, price: 1099, stock: 6 },
  { isbn: '978-0141439518', title: 'Pride and Prejudice', author: 'Jane Austen', year: 1813, price: 899, stock: 10 },
  { isbn: '978-0060850524', title: 'Brave New World', author: 'Aldous Huxley', year: 1932, price: 1250, stock: 3 },
  { isbn: '978-0307474278', title: 'The Road', author: 'Cormac McCarthy', year: 2006, price: 1399, stock: 2 },
  { isbn: '978-1400079988', title: 'War and Peace', author: 'Leo Tolstoy', year: 1869, price: 2299, stock: 1 },
  { isbn: '978-0375842207', title: 'The Book Thief', author: 'Markus Zusak', year: 2005, price: 1199, stock: 5 },
  { isbn: '978-0618640157', title: 'The Lord of the Rings', author: 'J. R. R. Tolkien', year: 1954, price: 3499, stock: 2 },
];

/**
 * Bookstore B: smaller, cheaper, some titles out of stock, some A lacks.
 *
 * @example
 * ```ts
 * searchBooks(BOOKSTORE_B_BOOKS, 'tolkien').map((b) => b.title); // ['The Hobbit', 'The Silmarillion']
 * ```
 */
export const BOOKSTORE_B_BOOKS: readonly Book[] = [
  { isbn: '978-0441013593', title: 'Dune', author: 'Frank Herbert', year: 1965, price: 1590, stock: 2 },
  { isbn: '978-0441172719', title: 'Children of Dune', author: 'Frank Herbert', year: 1976, price: 1490, stock: 0 },
  { isbn: '978-0547928227', title: 'The Hobbit', author: 'J. R. R. Tolkien', year: 1937, price: 1290, stock: 3 },
  { isbn: '978-0544338012', title: 'The Silmarillion', author: 'J. R. R. Tolkien', year: 1977, price: 1690, stock: 1 },
  { isbn: '978-0451524935', title: 'Nineteen Eighty-Four', author: 'George Orwell', year: 1949, price: 950, stock: 0 },
  { isbn: '978-0452284234', title: 'Animal Farm', author: 'George Orwell', year: 1945, price: 799, stock: 7 },
  { isbn: '978-0141439518', title: 'Pride and Prejudice', author: 'Jane Austen', year: 1813, price: 750, stock: 4 },
  { isbn: '978-0553213119', title: 'Moby-Dick', author: 'Herman Melville', year: 1851, price: 990, stock: 2 },
];

/**
 * Books whose title, author or ISBN contain every word of `query`
 * (case-insensitive); everything for an empty query.
 *
 * @example
 * ```ts
 * searchBooks(BOOKSTORE_A_BOOKS, 'herbert dune').map((b) => b.title); // ['Dune', 'Dune Messiah']
 * ```
 */
export function searchBooks(books: readonly Book[], query: string): Book[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return books.filter((b) => {
    const hay = `${b.title} ${b.author} ${b.isbn}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}
