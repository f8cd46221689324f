import { render, screen } from '@testing-library/react';
import { HostBadge, StatusBadge, statusLabel } from './StatusBadge';

describe('StatusBadge', () => {
  it('uses the seed words exactly', () => {
    expect(statusLabel('active')).toBe('active (heartbeat)');
    expect(statusLabel('inactive')).toBe('inactive');
    expect(statusLabel('independent')).toBe('independent');
  });

  it('lets independence win over a heartbeat status, in its own (non-danger) colour', () => {
    render(<StatusBadge status="active" isIndependent />);
    const b = screen.getByText('independent');
    expect(b).toHaveClass('badge-independent');
    expect(b).not.toHaveClass('badge-destructive');
  });

  it('shows an unknown status as inactive', () => {
    render(<StatusBadge status="weird" />);
    expect(screen.getByText('inactive')).toHaveClass('badge-inactive');
  });

  it('gives each state its own icon, hidden from screen readers', () => {
    const { container } = render(
      <>
        <StatusBadge status="active" />
        <StatusBadge status="inactive" />
        <StatusBadge status="independent" />
      </>,
    );
    const icons = [...container.querySelectorAll('svg.badge-icon')];
    expect(icons).toHaveLength(3);
    expect(new Set(icons.map((i) => i.innerHTML)).size).toBe(3);
    icons.forEach((i) => expect(i).toHaveAttribute('aria-hidden', 'true'));
  });

  it('shows a host alive or not in words and shape, not colour alone', () => {
    const { container } = render(
      <>
        <HostBadge alive />
        <HostBadge alive={false} />
      </>,
    );
    expect(screen.getByText('alive')).toHaveClass('badge-active');
    expect(screen.getByText('not alive')).toHaveClass('badge-inactive');
    const icons = [...container.querySelectorAll('svg.badge-icon')];
    expect(icons).toHaveLength(2);
    expect(icons[0]!.innerHTML).not.toBe(icons[1]!.innerHTML);
  });
});
