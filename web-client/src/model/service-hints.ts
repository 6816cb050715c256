/**
 * The one detail a person may give when opening a service, for the demo's
 * services (docs/demo.md): the JSON field it fills in
 * `application/vnd.siprelay.request+json`, its label, and a fixed list of
 * choices or free text. Services not listed open without details.
 */
export interface ServiceDetailHint {
  readonly field: string;
  readonly label: string;
  readonly choices?: readonly { readonly value: string; readonly label: string }[];
  readonly placeholder?: string;
  /** The value the field starts with. */
  readonly initial: string;
}

const SHELVES = [
  { value: 'wine', label: 'Wines' },
  { value: 'beer', label: 'Beers & ciders' },
] as const;

const HINTS: Readonly<Record<string, ServiceDetailHint>> = {
  wine: { field: 'category', label: 'Shelf', choices: SHELVES, initial: 'wine' },
  beer: { field: 'category', label: 'Shelf', choices: SHELVES, initial: 'beer' },
  bookstore: { field: 'query', label: 'Search', placeholder: 'e.g. dune', initial: 'dune' },
  lesson: { field: 'topic', label: 'Topic', placeholder: 'Wine tasting: the basics', initial: '' },
};

/**
 * The detail hint of `service`, if the portal knows one.
 *
 * @example
 * ```ts
 * serviceDetailHint('wine')?.field; // "category"
 * ```
 */
export function serviceDetailHint(service: string): ServiceDetailHint | undefined {
  return Object.prototype.hasOwnProperty.call(HINTS, service) ? HINTS[service] : undefined;
}

/**
 * The details to send for `service` with `value` typed or chosen: `{ [field]: value }`,
 * or none when the value is empty or the service has no hint.
 *
 * @example
 * ```ts
 * detailsFor('bookstore', 'dune'); // { query: 'dune' }
 * ```
 */
export function detailsFor(service: string, value: string | undefined): Record<string, string> | undefined {
  const hint = serviceDetailHint(service);
  const v = value?.trim();
  if (!hint || !v) return undefined;
  return { [hint.field]: v };
}

/** Services a pane offers to change to in place: the same application server, other details (docs/demo.md, "Change"). */
export function canChangeInPlace(service: string): boolean {
  const hint = serviceDetailHint(service);
  return hint !== undefined;
}
