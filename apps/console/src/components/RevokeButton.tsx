import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { Grant } from '@jit/client';
import { api } from '../api';
import { ErrorState } from './states';

/** Revoke with an optional reason, after a confirmation step (keyboard reachable, no window.confirm). */
export function RevokeButton({ grant, label = 'Revoke' }: { grant: Grant; label?: string }) {
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [reason, setReason] = useState('');
  const revoke = useMutation({
    mutationFn: () => api.revokeGrant(grant.id, reason.trim() ? { reason: reason.trim() } : {}),
    onSuccess: () => {
      setConfirming(false);
      void queryClient.invalidateQueries({ queryKey: ['grants'] });
      void queryClient.invalidateQueries({ queryKey: ['grant', grant.id] });
    },
  });
  if (!confirming) {
    return (
      <button type="button" className="btn btn-danger btn-small" onClick={() => setConfirming(true)}>
        {label}
      </button>
    );
  }
  const id = `revoke-reason-${grant.id}`;
  return (
    <div className="stack revoke-confirm">
      <div className="field">
        <label htmlFor={id}>Reason (optional)</label>
        <input id={id} value={reason} onChange={(e) => setReason(e.target.value)} maxLength={1024} autoFocus />
      </div>
      <div className="actions">
        <button type="button" className="btn btn-danger btn-small" onClick={() => revoke.mutate()} disabled={revoke.isPending}>
          {revoke.isPending ? 'Revoking…' : 'Confirm revoke'}
        </button>
        <button type="button" className="btn btn-quiet btn-small" onClick={() => setConfirming(false)}>
          Cancel
        </button>
      </div>
      <ErrorState error={revoke.error} title="Not revoked" />
    </div>
  );
}
