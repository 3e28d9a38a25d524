// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Ownable} from "./access/Ownable.sol";
import {Lists} from "./Lists.sol";
import {
    IManager,
    IResponse,
    IResponseFactory,
    ISource,
    ISourceFactory,
    ITask,
    ITerminal,
    IVault
} from "./Interfaces.sol";
import {
    ALL_ENVIRONMENTS,
    CONTROLLER_ROLE,
    DeliveryMethod,
    PROVIDER_ROLE,
    ResponseParams,
    ResponseStatus,
    SourceParams,
    SourceStatus,
    TaskStatus
} from "./Types.sol";

/// Registry of sources, registrations, attempts and responses; emits every
/// protocol event. Providers act themselves, through their master, or through
/// an agent of their master.
contract Nexus is Ownable {
    bytes32 public constant CONTROLLER = CONTROLLER_ROLE;
    bytes32 public constant PROVIDER = PROVIDER_ROLE;

    address public manager;
    address public terminal;
    address public vault;
    address public sourceFactory;
    address public responseFactory;

    address[] public sources;
    mapping(address => uint256) public sourceId;
    mapping(address => address[]) public sourcesOf;
    mapping(address => uint256) public activeSourceCountOf;
    address[] public clients;

    mapping(address => bool) private _isClient;
    mapping(address => bool) private _isTask;

    event Attempted(address task, address provider, uint256 suggestedPayment);
    event Registered(
        address provider, uint256 registrantId, address source, uint8 preferredEnvironment
    );
    event ResponseStatusChanged(address response, ResponseStatus status);
    event ResponseSubmitted(address response, address task);
    event SourcePublished(address source);
    event SourceStatusChanged(address source, SourceStatus status);
    event SourceUpdated(address source, SourceParams sourceParams);
    event TaskPublished(address task, address source);
    event TaskStatusChanged(address task, TaskStatus status);

    modifier onlyControllerOrOwner() {
        require(checkController(msg.sender) || msg.sender == owner(), "NotController");
        _;
    }

    modifier knownSource(address source) {
        require(sourceId[source] != 0, "UnknownSource");
        _;
    }

    modifier knownTask(address task) {
        require(_isTask[task], "UnknownTask");
        _;
    }

    constructor(address _manager, address _terminal, address _vault) Ownable(msg.sender) {
        manager = _manager;
        terminal = _terminal;
        vault = _vault;
    }

    // ---- sources ----

    /// Deploys a Source owned by the caller; `client` and `lastUpdateTime` are
    /// set by the contract.
    function publishSource(SourceParams memory _sourceParams) external {
        _normalize(_sourceParams);
        address source = ISourceFactory(sourceFactory).create(_sourceParams);
        sources.push(source);
        sourceId[source] = sources.length;
        sourcesOf[msg.sender].push(source);
        activeSourceCountOf[msg.sender] += 1;
        if (!_isClient[msg.sender]) {
            _isClient[msg.sender] = true;
            clients.push(msg.sender);
        }
        emit SourcePublished(source);
    }

    function updateSource(address source, SourceParams memory _sourceParams)
        external
        knownSource(source)
    {
        require(ISource(source).owner() == msg.sender, "NotOwner");
        _normalize(_sourceParams);
        ISource(source).setSourceParams(_sourceParams);
        emit SourceUpdated(source, _sourceParams);
    }

    /// One-way ACTIVE -> INACTIVE by the owner.
    function inactivateSource(address source) external knownSource(source) {
        require(ISource(source).owner() == msg.sender, "NotOwner");
        require(ISource(source).getStatus() == SourceStatus.ACTIVE, "SourceInactive");
        ISource(source).setStatus(SourceStatus.INACTIVE);
        _sourceStatusChanged(source, SourceStatus.INACTIVE);
    }

    /// Admin/Controller route, or the source reporting its owner's setStatus.
    function setSourceStatus(address source, SourceStatus status) external knownSource(source) {
        if (msg.sender != source) {
            require(checkController(msg.sender) || msg.sender == owner(), "NotController");
            if (ISource(source).getStatus() == status) {
                return;
            }
            ISource(source).setStatus(status);
        }
        _sourceStatusChanged(source, status);
    }

    function getSourceCount() external view returns (uint256) {
        return sources.length;
    }

    /// 1-based index of the source; 0 when unknown.
    function getSourceId(address source) external view returns (uint256) {
        return sourceId[source];
    }

    /// No mainnet record (the official SDK never calls it). The devnet pages it like the
    /// recorded Task getters (official 0.2.3 `_base.py` `_paginated_call`): both bounds
    /// inclusive, panic 0x32 for any index >= getSourceCount(), 0x11 when upper < lower.
    /// The SDK reads it correctly under the half-open convention too.
    function getSources(uint256 lower, uint256 upper) external view returns (address[] memory) {
        return Lists.inclusive(sources, lower, upper);
    }

    function getActiveSourceCount(address client) external view returns (uint256) {
        return activeSourceCountOf[client];
    }

    // ---- providers ----

    function register(address source, address provider, uint8 preferredEnvironment)
        external
        knownSource(source)
    {
        _requireActor(provider);
        require(ISource(source).getStatus() == SourceStatus.ACTIVE, "SourceInactive");
        SourceParams memory sp = ISource(source).getSourceParams();
        require(
            _isSingleEnvironment(preferredEnvironment)
                && (preferredEnvironment & sp.imageEnvironments) != 0,
            "EnvironmentNotSupported"
        );
        IVault v = IVault(vault);
        if (!v.isWhitelisted(provider)) {
            require(v.sanctionOf(provider) == 0, "NotEligible");
            uint256 needed = v.MIN_LOCKUP_PER_SOURCE();
            if (sp.minAvailableLockup > needed) {
                needed = sp.minAvailableLockup;
            }
            require(v.lockupOf(provider) >= needed, "InsufficientLockup");
        }
        uint256 id = ISource(source).register(provider, preferredEnvironment);
        emit Registered(provider, id, source, preferredEnvironment);
    }

    function unregister(address source, address provider) external knownSource(source) {
        _requireActor(provider);
        ISource(source).unregister(provider);
    }

    function attempt(address task, address provider, uint256 suggestedPayment)
        external
        knownTask(task)
    {
        _requireActor(provider);
        ITask t = ITask(task);
        require(ISource(t.getSource()).getRegistrantId(provider) != 0, "NotRegistered");
        TaskStatus s = t.getStatus();
        _requireOpen(s);
        require(s != TaskStatus.RESPONDED, "AlreadyResponded");
        require(t.getAttempterId(provider) == 0, "AlreadyAttempted");
        t.attempt(provider);
        emit Attempted(task, provider, suggestedPayment);
        if (s == TaskStatus.NEW) {
            emit TaskStatusChanged(task, TaskStatus.ATTEMPTED);
        }
    }

    /// Deploys a Response; with FIRST_RESPONSE delivery the first response
    /// finalizes the task and pays the provider in the same transaction.
    function submitResponse(ResponseParams memory _responseParams)
        external
        knownTask(_responseParams.task)
    {
        address task = _responseParams.task;
        address provider = _responseParams.provider;
        _requireActor(provider);
        ITask t = ITask(task);
        TaskStatus s = t.getStatus();
        _requireOpen(s);
        require(t.getAttempterId(provider) != 0, "NotAttempted");
        require(
            t.responseOf(provider) == address(0)
                && !t.isAlreadySubmitted(keccak256(bytes(_responseParams.data))),
            "AlreadySubmitted"
        );
        address response = IResponseFactory(responseFactory).create(_responseParams);
        t.submitResponse(response, provider);
        emit ResponseSubmitted(response, task);
        if (s != TaskStatus.RESPONDED) {
            emit TaskStatusChanged(task, TaskStatus.RESPONDED);
        }
        if (t.getDeliveryMethod() == DeliveryMethod.FIRST_RESPONSE) {
            _finalize(task, response);
        }
    }

    // ---- Controller hooks ----

    function checkController(address account) public view returns (bool) {
        return IManager(manager).hasRole(CONTROLLER, account);
    }

    function emitTaskPublished(address task, address source) external knownSource(source) {
        require(checkController(msg.sender), "NotController");
        _isTask[task] = true;
        ISource(source).publishTask(task);
        emit TaskPublished(task, source);
    }

    function setTaskStatus(address task, TaskStatus status)
        external
        knownTask(task)
        onlyControllerOrOwner
    {
        ITask(task).setStatus(status);
        emit TaskStatusChanged(task, status);
    }

    /// CONFIRMED finalizes the response's task and pays its provider.
    function setResponseStatus(address response, ResponseStatus status)
        external
        onlyControllerOrOwner
    {
        address task = IResponse(response).getResponseParams().task;
        require(_isTask[task], "UnknownTask");
        if (status == ResponseStatus.CONFIRMED) {
            _finalize(task, response);
        } else {
            IResponse(response).setStatus(status);
            emit ResponseStatusChanged(response, status);
        }
    }

    // ---- admin ----

    function setManager(address _manager) external onlyOwner {
        manager = _manager;
    }

    function setTerminal(address _terminal) external onlyOwner {
        terminal = _terminal;
    }

    function setVault(address _vault) external onlyOwner {
        vault = _vault;
    }

    /// Devnet-only wiring of the Source and Response factories.
    function setFactories(address _sourceFactory, address _responseFactory) external onlyOwner {
        sourceFactory = _sourceFactory;
        responseFactory = _responseFactory;
    }

    // ---- internal ----

    function _finalize(address task, address response) private {
        ITask t = ITask(task);
        require(t.getStatus() != TaskStatus.FINALIZED, "AlreadyFinalized");
        IResponse r = IResponse(response);
        require(r.getStatus() == ResponseStatus.SUBMITTED, "AlreadyConfirmed");
        r.confirm();
        emit ResponseStatusChanged(response, ResponseStatus.CONFIRMED);
        t.setStatus(TaskStatus.FINALIZED);
        emit TaskStatusChanged(task, TaskStatus.FINALIZED);
        ResponseParams memory rp = r.getResponseParams();
        IVault(vault).processPayment(t.owner(), rp.provider, task, t.getPayment());
    }

    function _sourceStatusChanged(address source, SourceStatus status) private {
        address client = ISource(source).owner();
        if (status == SourceStatus.INACTIVE) {
            activeSourceCountOf[client] -= 1;
        } else {
            activeSourceCountOf[client] += 1;
        }
        emit SourceStatusChanged(source, status);
    }

    /// The caller is the provider, its master, or an agent of its master.
    function _requireActor(address provider) private view {
        if (msg.sender == provider) {
            return;
        }
        ITerminal term = ITerminal(terminal);
        address master = term.masterOf(provider);
        require(
            master != address(0) && (msg.sender == master || term.isAgentOf(master, msg.sender)),
            "NotAuthorized"
        );
    }

    function _requireOpen(TaskStatus s) private pure {
        require(s != TaskStatus.FINALIZED && s != TaskStatus.CANCELED, "AlreadyFinalized");
        require(s != TaskStatus.EXPIRED, "Expired");
    }

    function _normalize(SourceParams memory p) private view {
        require(
            p.imageEnvironments != 0 && p.imageEnvironments <= ALL_ENVIRONMENTS,
            "EnvironmentNotSupported"
        );
        p.client = msg.sender;
        p.lastUpdateTime = block.timestamp;
    }

    function _isSingleEnvironment(uint8 env) private pure returns (bool) {
        return env == 1 || env == 2 || env == 4;
    }
}
