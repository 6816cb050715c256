/**
 * The names of docs/wire-contracts.md the portal speaks: the media types of
 * the client's service details, the application server's descriptor and
 * charges, and the Info Package of charges (RFC 6086).
 */
export const SiprelayMediaTypes = Object.freeze({
  /** The client's service details, in INVITE, re-INVITE, UPDATE and REFER. */
  request: 'application/vnd.siprelay.request+json',
  /** The application server's descriptor (`url` required) in a 2xx. */
  service: 'application/vnd.siprelay.service+json',
  /** A charge: INFO, 2xx to BYE, BYE. */
  charge: 'application/vnd.siprelay.charge+json',
  /** The Info Package of charges; the portal puts it in Recv-Info. */
  chargePackage: 'siprelay-charge',
  /** The header of the user's token on the 200 to REGISTER. */
  userTokenHeader: 'siprelay-user-token',
});
