// An orchestrator's recommendation and monitoring messages: review pending
// ones (Accept / Dismiss) and follow an accepted one's delivery.
import { useState } from 'react';
import { useSubmit } from '../lib/useSubmit';
import { Link } from 'react-router-dom';
import type { DeliveryState, Message } from '../api/types';
import { useApi } from '../auth/session';
import { useResource } from '../live/useResource';
import { RelativeTime } from './RelativeTime';
import { Empty, ErrorBox, Loaded } from './States';

const DELIVERY_TEXT: Record<DeliveryState, string> = {
  none: 'not sent',
  queued: 'queued',
  sent: 'sent, awaiting acknowledgement',
  acknowledged: 'delivered',
  expired: 'expired, never acknowledged',
  cancelled: 'cancelled',
};

export function deliveryText(m: Message): string {
  // A message ends expired or cancelled whether or not it was reviewed.
  if (m.delivery_state === 'expired' || m.delivery_state === 'cancelled')
    return DELIVERY_TEXT[m.delivery_state];
  if (m.status !== 'accepted') return '—';
  // Monitoring messages are informational: accepting one records it, nothing is sent.
  if (m.message_type === 'monitoring' && m.delivery_state === 'none') return 'recorded — monitoring messages stay on the controller';
  return DELIVERY_TEXT[m.delivery_state] ?? m.delivery_state;
}

export function MessageRow({ m, onReviewed, showOrchestrator = false }: { m: Message; onReviewed: (m: Message) => void; showOrchestrator?: boolean }) {
  const api = useApi();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const review = async (status: 'accepted' | 'dismissed') => {
    setBusy(true);
    setError(null);
    try {
      onReviewed(await api.reviewMessage(m.id, status));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const short = m.content.length > 40 ? `${m.content.slice(0, 40)}…` : m.content;
  return (
    <li className="message" data-message={m.id} data-status={m.status} data-delivery={m.delivery_state}>
      <div className="message-head">
        <span className={`tag tag-${m.message_type}`}>{m.message_type}</span>
        <RelativeTime iso={m.created_at} />
        {showOrchestrator && (
          <Link to={`/orchestrators/${encodeURIComponent(m.orchestrator_id)}`} className="message-orch">
            {m.orchestrator_id}
          </Link>
        )}
        <span className={`review review-${m.status}`}>{m.status}</span>
        {m.status === 'accepted' && (
          <span className={`delivery delivery-${m.delivery_state}`} aria-label={`Delivery: ${deliveryText(m)}`}>
            {deliveryText(m)}
          </span>
        )}
      </div>
      <p className="message-content">{m.content}</p>
      {m.status === 'pending' && (
        <div className="message-actions">
          <button type="button" className="btn btn-primary" disabled={busy} onClick={() => void review('accepted')} aria-label={`Accept: ${short}`}>
            Accept
          </button>
          <button type="button" className="btn" disabled={busy} onClick={() => void review('dismissed')} aria-label={`Dismiss: ${short}`}>
            Dismiss
          </button>
        </div>
      )}
      {error ? <ErrorBox error={error} /> : null}
    </li>
  );
}

function NewMessage({ orchestratorId, onCreated }: { orchestratorId: string; onCreated: () => void }) {
  const api = useApi();
  const [type, setType] = useState('recommendation');
  const [content, setContent] = useState('');
  const { busy, error, submit } = useSubmit(async () => {
    if (!content.trim()) return;
    await api.createMessage(orchestratorId, { message_type: type, content: content.trim() });
    setContent('');
    onCreated();
  });
  return (
    <details className="new-message">
      <summary>New message</summary>
      <form onSubmit={submit} className="stack">
        <div className="field">
          <label htmlFor="msg-type">Type</label>
          <select id="msg-type" value={type} onChange={(e) => setType(e.target.value)}>
            <option value="recommendation">recommendation</option>
            <option value="monitoring">monitoring</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="msg-content">Content</label>
          <textarea id="msg-content" rows={3} value={content} onChange={(e) => setContent(e.target.value)} required />
        </div>
        {error ? <ErrorBox error={error} /> : null}
        <div>
          <button type="submit" className="btn btn-primary" disabled={busy || !content.trim()}>
            Create message
          </button>
        </div>
      </form>
    </details>
  );
}

export function Messages({ orchestratorId }: { orchestratorId: string }) {
  const api = useApi();
  const [status, setStatus] = useState('');
  const list = useResource(() => api.messages(orchestratorId, { status: status || undefined, page_size: 100 }), [api, orchestratorId, status], {
    refreshOn: (e) => e.kind === 'message_changed' && e.orchestrator_id === orchestratorId,
  });
  // Show the review's answer at once, then refetch: delivery events may have
  // overtaken this answer (an orchestrator can acknowledge before it arrives),
  // and a fetch issued now sees the latest state.
  const replace = (m: Message) => {
    list.setData((d) => (d ? { ...d, items: d.items.map((x) => (x.id === m.id ? m : x)) } : d));
    list.reload();
  };

  return (
    <section className="card" aria-labelledby="messages-title">
      <div className="section-head">
        <h2 id="messages-title">Messages</h2>
        <div className="field inline">
          <label htmlFor="msg-filter">Show</label>
          <select id="msg-filter" value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">all</option>
            <option value="pending">pending</option>
            <option value="accepted">accepted</option>
            <option value="dismissed">dismissed</option>
          </select>
        </div>
      </div>
      <NewMessage orchestratorId={orchestratorId} onCreated={list.reload} />
      <Loaded {...list} what="Loading messages">
        {(d) =>
          d.items.length === 0 ? (
            <Empty>{status ? `No ${status} messages.` : 'No messages for this orchestrator.'}</Empty>
          ) : (
            <ul className="messages">
              {d.items.map((m) => (
                <MessageRow key={m.id} m={m} onReviewed={replace} />
              ))}
            </ul>
          )
        }
      </Loaded>
    </section>
  );
}
