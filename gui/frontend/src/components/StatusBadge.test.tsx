import { render, screen } from '@testing-library/react';
import { StatusBadge, statusLabel } from './StatusBadge';

describe('StatusBadge', () => {
  it('uses the seed words exactly', () => {
    expect(statusLabel('active')).toBe('active (heartbeat)');
    expect(statusLabel('inactive')).toBe('inactive');
    expect(statusLabel('independent')).toBe('independent');
  });

  it('lets independence win over a heartbeat status', () => {
    render(<StatusBadge status="active" isIndependent />);
    expect(screen.getByText('independent')).toHaveClass('badge-destructive');
  });

  it('shows an unknown status as inactive', () => {
    render(<StatusBadge status="weird" />);
    expect(screen.getByText('inactive')).toHaveClass('badge-secondary');
  });
});
