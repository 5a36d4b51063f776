/**
 * The identity module's face: the identity providers the portal offers and the OpenID Connect flow.
 * Nothing else of the module is imported from outside it.
 */
export {
  type FlowProvider,
  findFlowProvider,
  portalProvidersOf,
  redirectUriOf,
} from './identity-provider.service.ts';
export { type FlowChecks, finishFlow, ProviderUnavailable, SignInRefused, startFlow } from './oidc.client.ts';
