// The API's shapes the app reads (openapi.yaml, components/schemas).
import type { Kind, Side } from './kinds'

export interface Amount {
  amount: number
  unit: string
}

export interface Listing {
  id: string
  side: Side
  kind: Kind
  title: string
  description: string
  quantity: Amount | null
  price: Amount | null
  location: { address?: string | null; lat?: number | null; lon?: number | null } | null
  available_from: string | null
  available_until: string | null
  urgency: 'normal' | 'urgent' | 'emergency'
  visibility: 'public' | 'community'
  /** `fulfilled`: closed because confirmed agreements cover its whole quantity. */
  status: 'open' | 'closed' | 'fulfilled'
  attributes: Record<string, unknown>
  call_for_quotes?: { closes_at: string | null } | null
  committed?: Amount | null
  remaining?: Amount | null
  firm: { id: string; name: string; verified: boolean }
  community: { id: string; name: string }
  version: number
  created_at: string
  updated_at: string
  closed_at: string | null
}

export interface Factor {
  key: string
  value: number
  weight: number
  reason: string
}

export interface LiveMatch {
  listing: Listing
  score: number
  partial: boolean
  factors: Factor[]
}

export interface ListingRef {
  id: string
  title: string
  kind: string
  firm_id: string
}

export type MatchStatus = 'suggested' | 'contacted' | 'agreed' | 'declined' | 'expired'

export interface MatchRecord {
  id: string
  status: MatchStatus
  score: number
  partial: boolean
  factors: Factor[]
  request: ListingRef
  offer: ListingRef
  created_at: string
  updated_at: string
}

export interface Thread {
  id: string
  status: 'open' | 'closed'
  title: string
  subject: {
    type: 'listing' | 'match'
    listing: { id: string; title: string; kind: string; side: string } | null
    match: { id: string; status: MatchStatus; request: { id: string } | null; offer: { id: string } | null } | null
  }
  firms: { id: string; name: string }[]
  other_firm: { id: string; name: string } | null
  staff: { user_id: string; name: string; community_id: string; joined_at: string }[]
  my_role: 'firm' | 'staff' | 'observer'
  last_seq: number
  last_read_seq: number
  unread: number
  last_message: { seq: number; kind: 'text' | 'system'; author_name: string | null; preview: string; created_at: string } | null
  created_at: string
  updated_at: string
}

export interface Message {
  id: string
  thread_id: string
  seq: number
  kind: 'text' | 'system'
  author: { user_id: string; name: string; firm_id: string | null; role: 'firm' | 'staff' } | null
  text: string
  event: string | null
  listing_ref: string | null
  client_msg_id: string | null
  created_at: string
}

export interface Me {
  user: { id: string; phone: string | null; email: string | null; display_name: string }
  firm: { id: string; name: string; verified: boolean; community_id: string; role: 'admin' | 'member' } | null
  staff: { community_id: string; community_name: string } | null
  roles: string[]
}

export interface Firm {
  id: string
  name: string
  uscc: string
  community_id: string
  address: string
  lat: number | null
  lon: number | null
  contact_name?: string
  contact_phone?: string
  verified: boolean
}

export interface Notification {
  id: string
  type: string
  title: string
  body: string
  subject: { type: 'match' | 'thread' | 'firm' | 'case' | 'agreement' | 'quote' | 'listing'; id: string }
  thread_id: string | null
  count: number
  read_at: string | null
  created_at: string
}

export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

// Deals (docs/DEALS.md): quotes, two-sided agreements, contacts, ratings.

/** Terms of a quote or an agreement. */
export interface Terms {
  quantity?: Amount
  price?: Amount
  available_from?: string | null
  available_until?: string | null
  place?: string | null
}

export interface Reputation {
  firm_id: string
  completed_deals: number
  confirmed_deals: number
  completion_rate: number | null
  ratings: number
  average_rating: number | null
  rating: number
  park_mean_rating: number
  reliability: number
  has_history: boolean
  /** Median seconds to answer a first message from the other firm. */
  median_response_secs?: number | null
  responses?: number
}

export type QuoteStatus = 'submitted' | 'accepted' | 'declined' | 'withdrawn'

export interface Quote {
  id: string
  request_id: string
  offer_id: string
  match_id: string
  firm: { id: string; name: string }
  quantity: Amount
  price: Amount
  available_from: string | null
  available_until: string | null
  place: string
  terms: string
  valid_until: string | null
  status: QuoteStatus
  decline_reason: string | null
  version: number
  total_price_yuan: number | null
  coverage: number | null
  match_score: number | null
  reputation: Reputation
  /** The requesting firm asked for a revision (until revised or withdrawn). */
  revision_request?: { requested_at: string; requested_by: string; message: string } | null
  agreement_id: string | null
  created_at: string
  updated_at: string
}

export interface QuoteInput extends Terms {
  offer_id?: string
  terms?: string | null
  valid_until?: string | null
}

export interface QuoteComparison {
  request: {
    id: string
    title: string
    status: Listing['status']
    call_for_quotes: boolean
    quotes_close_at: string | null
    quantity: Amount | null
    committed: Amount | null
    remaining: Amount | null
  }
  sort: string
  items: Quote[]
}

export type AgreementStatus = 'proposed' | 'confirmed' | 'in_progress' | 'completed' | 'cancelled'

export interface ListingBrief {
  id: string
  title: string
  firm_id: string
  status: Listing['status']
  quantity: Amount | null
  remaining: Amount | null
}

export interface Contact {
  firm_id: string
  firm_name: string
  contact_name: string
  contact_phone: string
}

export interface RatingInput {
  score: number
  tags?: string[]
  comment?: string | null
}

export interface Rating {
  rater_firm_id: string
  ratee_firm_id: string
  score: number
  tags: string[]
  comment: string
  created_at: string
  published_at: string | null
}

export interface AgreementVersion {
  version: number
  terms: Terms
  proposed_by_firm: string
  proposed_by: string
  proposed_at: string
  confirmed_by: string | null
  confirmed_at: string | null
}

export interface Agreement {
  id: string
  match_id: string
  quote_id: string | null
  request: ListingBrief
  offer: ListingBrief
  status: AgreementStatus
  version: number
  confirmed_version: number | null
  awaiting_firm_id: string | null
  /** Every firm that must still confirm: both, of a version staff proposed. */
  awaiting_firm_ids?: string[]
  proposed_by_firm_id: string
  proposed_by_staff?: string | null
  case_id?: string | null
  terms: Terms
  total_price_yuan: number | null
  committed: { request?: Amount | null; offer?: Amount | null }
  versions: AgreementVersion[]
  contacts: { request_firm?: Contact; offer_firm?: Contact } | null
  reveal: { revealed_at: string; revealed_by: string; reason: 'agreement_confirmed' | 'staff_introduction' } | null
  ratings: { window_closes_at: string | null; published: boolean; rated_firm_ids: string[]; items: Rating[] }
  first_confirmed_at?: string | null
  started_at?: string | null
  completed_at?: string | null
  cancelled_at?: string | null
  cancel_reason?: string | null
  created_at: string
  updated_at: string
}

export interface AgreementInput extends Terms {
  match_id?: string
  quote_id?: string
}
