import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Custom search attributes make the Temporal Web UI the ops console: filter by tenant, status, campaign, trace.
export const TENANT = defineSearchAttributeKey('CausewayTenant', SearchAttributeType.KEYWORD);
export const CONVERSATION_STATUS = defineSearchAttributeKey('CausewayConversationStatus', SearchAttributeType.KEYWORD);
export const CAMPAIGN_ID = defineSearchAttributeKey('CausewayCampaignId', SearchAttributeType.KEYWORD);
export const TRACE_ID = defineSearchAttributeKey('CausewayTraceId', SearchAttributeType.KEYWORD);

export const CAMPAIGN_STATUS = defineSearchAttributeKey('CausewayCampaignStatus', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTES = [TENANT, CONVERSATION_STATUS, CAMPAIGN_ID, CAMPAIGN_STATUS, TRACE_ID] as const;
