export { fixedClock, type Clock } from "./clock";
export { countryCodeSchema, EU_MEMBER_STATES_2016, type CountryCode } from "./countries";
export {
  ANNOUNCED_2016,
  HISTORICAL_TIMELINE,
  isPolicyVersion,
  makeTimeline,
  POLICIES,
  policyInForce,
  POLICY_VERSIONS,
  policyVersionSchema,
  REGULATORY_EVENTS_2016,
  SHARING_POLICY_VERSION,
  type Policy,
  type PolicyVersion,
  type RegulatoryEvent,
  type Timeline,
  type TimelineParameters,
} from "./policy";
export { CHOICE_PURPOSES, isChoicePurpose, PURPOSES, purposeSchema, type Purpose } from "./purposes";
export { REFUSAL_CODES, type Refusal, type RefusalCode, type Result } from "./refusals";
export {
  HISTORICAL_2016,
  REGIME_PRESETS,
  regimeFor,
  regimeInputSchema,
  regimeNameSchema,
  REGIMES,
  regimeSchema,
  regimeSpecSchema,
  regimeSwitchesBetween,
  resolveRegime,
  type DatedRegime,
  type Regime,
  type RegimeInput,
  type RegimeName,
  type RegimePresetName,
  type RegimeSpec,
} from "./regimes";
export {
  acceptTerms,
  ACCOUNT_KINDS,
  accountKindSchema,
  canChangeShareChoice,
  canUseService,
  consentStateSchema,
  isNewUser,
  lastChangeAt,
  newAccount,
  optOutInSettings,
  serviceRefusal,
  SHARE_CHOICE_METHODS,
  shareBoxFor,
  type AcceptTermsInput,
  type AccountKind,
  type BusinessChoice,
  type ConsentState,
  type RuleContext,
  type ShareBox,
  type ShareChoice,
  type ShareChoiceMethod,
} from "./state";
export { mayShare, shareChoiceAt } from "./sharing";
export { CONSENT_PROPAGATION_MS } from "./propagation";
export {
  blockBusiness,
  businessCategorySchema,
  businessChoice,
  deliveryRefusal,
  mayDeliver,
  optInToMarketing,
  optOutOfMarketing,
  TRANSACTIONAL_TOPICS,
  unblockBusiness,
  type BusinessCategory,
  type BusinessSender,
  type TransactionalTopic,
} from "./business";
export {
  FIELD_CATALOGUE,
  SHAREABLE_FIELDS,
  shareableFieldSchema,
  shareableFields,
  type ShareableField,
  type ShareableFields,
} from "./fields";
export {
  MAX_SHARE_EVENTS_PER_BATCH,
  SHARE_EVENT_KINDS,
  shareBatchSchema,
  shareEventSchema,
  sharedFieldsSchema,
  type ShareEvent,
  type SharedFields,
} from "./share-events";
export {
  applyChoice,
  RECORDED_CHOICE_KINDS,
  recordedChoice,
  RegimeTimeline,
  type ChoiceRecord,
  type RecordedChoice,
  type RegimeChange,
} from "./history";
