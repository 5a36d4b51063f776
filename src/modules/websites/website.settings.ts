/** Website settings (SPEC 6): Power Pages site settings with the same meaning, invitation-first defaults. */
export interface WebsiteSettings {
  registrationEnabled: boolean;
  invitationEnabled: boolean;
  openRegistrationEnabled: boolean;
  localLoginEnabled: boolean;
  localLoginByEmail: boolean;
  externalLoginEnabled: boolean;
  requireUniqueEmail: boolean;
  emailConfirmationEnabled: boolean;
  profileRedirectEnabled: boolean;
  defaultInvitationLifetimeDays: number;
  allowNonExpiringInvitations: boolean;
  redeemByOtherContactAllowed: boolean;
  invitationEmailChangeAllowed: boolean;
}

export const defaultSettings: Readonly<WebsiteSettings> = Object.freeze({
  registrationEnabled: true,
  invitationEnabled: true,
  openRegistrationEnabled: false,
  localLoginEnabled: true,
  localLoginByEmail: false,
  externalLoginEnabled: true,
  requireUniqueEmail: true,
  emailConfirmationEnabled: true,
  profileRedirectEnabled: true,
  defaultInvitationLifetimeDays: 14,
  allowNonExpiringInvitations: false,
  redeemByOtherContactAllowed: false,
  invitationEmailChangeAllowed: false,
});

/** Stored settings over the defaults: a setting added later reads as its default on old rows. */
export const withDefaults = (stored: Partial<WebsiteSettings> | null | undefined): WebsiteSettings => ({
  ...defaultSettings,
  ...(stored ?? {}),
});
