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
  status: 'open' | 'closed'
  attributes: Record<string, unknown>
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
  type: 'match.suggested' | 'message' | 'brokered' | 'firm.verified' | 'case.opened'
  title: string
  body: string
  subject: { type: 'match' | 'thread' | 'firm' | 'case'; id: string }
  thread_id: string | null
  count: number
  read_at: string | null
  created_at: string
}

export interface Page<T> {
  items: T[]
  next_cursor: string | null
}
